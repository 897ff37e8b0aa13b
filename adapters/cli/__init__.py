"""The ``brokerwire`` command: ``stream``, ``decode``, ``simulate``, ``login`` and
``subscribe``.

Every failure ends in one line on stderr and exit code 1 (2 for a command line that does not
parse), after every event decoded before it has been printed. A failure that is a bug in
brokerwire says so in that line; ``--log-level debug`` adds its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from . import decode, login, simulate, stream, subscribe
from ._common import CommandError, OutputClosed

__all__ = ["build_parser", "main"]

LOG_LEVELS = ("debug", "info", "warning", "error")
#: An unexpected error's message is cut to this many characters (it may quote the input).
_MESSAGE_LIMIT = 300

log = logging.getLogger("brokerwire.cli")


def _version() -> str:
    try:
        return version("brokerwire")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _log_level_options() -> argparse.ArgumentParser:
    """``--log-level``, accepted before or after the subcommand."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=argparse.SUPPRESS,
        help="log to stderr from this level up (default: warning); secrets are never logged",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    common = _log_level_options()
    parser = argparse.ArgumentParser(
        prog="brokerwire",
        description=(
            "Speak the Tradovate WebSocket API and the cTrader Open API (JSON) "
            "from the command line."
        ),
        epilog="Run 'brokerwire COMMAND --help' for the options of each command.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (stream, decode, simulate, login, subscribe):
        module.add_parser(commands, [common])
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _configure_logging(getattr(args, "log_level", "warning"))
    command_parser: argparse.ArgumentParser = args.command_parser
    try:
        result: int = args.run(args, command_parser)
    except CommandError as exc:
        print(f"{command_parser.prog}: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except OutputClosed:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, never a traceback, unless asked for one
        log.debug("unexpected error", exc_info=True)
        print(f"{command_parser.prog}: {_one_line(_unexpected(exc))}", file=sys.stderr)
        return 1
    return result


def _one_line(text: str) -> str:
    """``text`` with its line breaks (a server's words may hold some) turned into spaces."""
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def _unexpected(exc: Exception) -> str:
    try:
        message = str(exc)
    except Exception:
        message = ""
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 3] + "..."
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"unexpected error (a bug in brokerwire, please report it): {text}"


if __name__ == "__main__":
    sys.exit(main())
