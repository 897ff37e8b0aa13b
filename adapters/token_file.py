"""Tokens kept between runs, in a file only the user can read.

``brokerwire login`` writes each broker's tokens to ``<config>/brokerwire/<broker>-tokens.json``,
where ``<config>`` is ``$XDG_CONFIG_HOME`` or ``~/.config``; ``brokerwire stream`` reads them
and writes each renewed token back. The folder is made with mode 0700 and the file with mode
0600, written whole and then moved into place, so a reader never sees half a file. A file that
others may read or write, or that another user owns, is refused with a message saying how to
fix it: a token in it may already have leaked, and a file others can write could hand us
their token.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from brokerwire.core.secret import Secret

__all__ = ["TokenFileError", "config_dir", "load_tokens", "save_tokens", "token_path"]


class TokenFileError(Exception):
    """A token file that cannot be used: missing, unsafe, or not one of ours."""


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/brokerwire``, or ``~/.config/brokerwire``."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "brokerwire"


def token_path(broker: str) -> Path:
    return config_dir() / f"{broker}-tokens.json"


def _stored(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def save_tokens(path: Path, broker: str, fields: dict[str, Any]) -> None:
    """Write ``fields`` (``Secret`` values revealed, datetimes as ISO 8601) with mode 0600."""
    record: dict[str, Any] = {"broker": broker}
    for name, value in fields.items():
        record[name] = _stored(value)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            descriptor = -1
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        temporary.unlink(missing_ok=True)
        raise


def check_private(path: Path) -> None:
    """Raise ``TokenFileError`` unless ``path`` is a regular file of this user with no access
    for anyone else."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise TokenFileError(f"no token file at {path}: run 'brokerwire login' first") from None
    if not stat.S_ISREG(info.st_mode):
        raise TokenFileError(f"{path} is not a regular file")
    if info.st_uid != os.getuid():
        raise TokenFileError(f"{path} belongs to another user: refusing to use its tokens")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise TokenFileError(
            f"{path} is open to other users (mode {mode:04o}): its tokens may have leaked. "
            f"Run 'chmod 600 {path}' if that is safe, or remove it and log in again"
        )


def load_tokens(path: Path, broker: str) -> dict[str, Any]:
    """The fields saved for ``broker``; credentials come back as ``Secret`` values."""
    check_private(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TokenFileError(f"cannot read the token file {path}: {type(exc).__name__}") from None
    if not isinstance(record, dict) or record.get("broker") != broker:
        raise TokenFileError(f"{path} holds no {broker} tokens")
    return {
        name: Secret(value) if name.endswith("token") and isinstance(value, str) else value
        for name, value in record.items()
    }


def expiration_of(fields: dict[str, Any]) -> datetime:
    """The saved expiry, an aware datetime."""
    try:
        moment = datetime.fromisoformat(str(fields.get("expiration_time")))
    except ValueError:
        raise TokenFileError("the token file holds no valid expiration_time") from None
    if moment.tzinfo is None:
        raise TokenFileError("the token file's expiration_time has no time zone")
    return moment
