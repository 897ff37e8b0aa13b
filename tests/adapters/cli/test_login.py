"""``brokerwire login`` and the sign-in of ``brokerwire stream``, as processes against
``brokerwire simulate`` processes with two-second tokens.

Every line the commands print or log (at debug level) is scanned for the secrets: passwords,
API and client secrets, codes, access and refresh tokens, old and renewed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brokerwire.adapters.token_file import save_tokens
from tests.adapters.cli.helpers import environment, json_lines, one_error_line, run_cli, start_cli
from tests.adapters.cli.test_simulate import _announcement, _stop

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def tradovate_sim() -> Iterator[dict[str, str]]:
    with start_cli("simulate", "tradovate", "--token-lifetime", "2", "--rate", "20") as process:
        yield _announcement(process)
        _stop(process)


@pytest.fixture
def tradovate_sim_6s() -> Iterator[dict[str, str]]:
    """Tokens of 6 s: kept ones outlive the start of the next process on a loaded machine."""
    with start_cli("simulate", "tradovate", "--token-lifetime", "6", "--rate", "20") as process:
        yield _announcement(process)
        _stop(process)


@pytest.fixture
def ctrader_sim() -> Iterator[dict[str, str]]:
    with start_cli("simulate", "ctrader", "--token-lifetime", "2", "--rate", "20") as process:
        yield _announcement(process)
        _stop(process)


def tradovate_env(sim: dict[str, str], config: Path, **more: str) -> dict[str, str]:
    variables = {
        "XDG_CONFIG_HOME": str(config),
        "TRADOVATE_USERNAME": sim["user name"],
        "TRADOVATE_PASSWORD": sim["password"],
        "TRADOVATE_APP_ID": sim["app id"],
        "TRADOVATE_CID": sim["cid"],
        "TRADOVATE_SECRET": sim["sec"],
    }
    return environment(**{**variables, **more})


def kept(path: Path) -> dict[str, Any]:
    """The token file, after checking that only its owner may read it."""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def assert_no_secret(secrets: set[str], *results: subprocess.CompletedProcess[str]) -> None:
    assert all(secrets)
    for result in results:
        for line in (result.stdout + result.stderr).splitlines():
            for secret in secrets:
                assert secret not in line, f"a secret in: {line[:80]}"


def test_stream_tradovate_signs_in_from_the_environment_and_renews(
    tradovate_sim: dict[str, str], tmp_path: Path
) -> None:
    sim = tradovate_sim
    result = run_cli(
        "stream", "tradovate", "--url", sim["md URL"], "--auth-url", sim["auth URL"],
        "--symbol", "ESZ6", "--duration", "7", "--log-level", "debug",
        env=tradovate_env(sim, tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    renewed = [r for r in records if r["type"] == "TokenRenewed"]
    assert len(renewed) >= 2
    assert all(r["broker"] == "Tradovate" for r in renewed)
    seqs = [q["id"] for r in records if r["type"] == "MarketData" for q in r["quotes"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert not [r for r in records if r["type"] in ("Disconnected", "Reconnected")]
    assert "renewed" in result.stderr  # the debug log is there, and was scanned
    assert_no_secret({sim["password"], sim["sec"]}, result)
    assert not (tmp_path / "brokerwire").exists()  # a sign-in from the environment keeps nothing


def test_login_tradovate_then_stream_from_the_kept_tokens(
    tradovate_sim_6s: dict[str, str], tmp_path: Path
) -> None:
    sim = tradovate_sim_6s
    login = run_cli(
        "login", "tradovate", "--auth-url", sim["auth URL"], "--log-level", "debug",
        env=tradovate_env(sim, tmp_path),
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    path = tmp_path / "brokerwire" / "tradovate-tokens.json"
    assert str(path) in login.stdout
    first = kept(path)
    stream = run_cli(
        "stream", "tradovate", "--url", sim["md URL"], "--auth-url", sim["auth URL"],
        "--symbol", "ESZ6", "--duration", "6", "--log-level", "debug",
        env=environment(XDG_CONFIG_HOME=str(tmp_path)),
    )  # fmt: skip
    assert stream.returncode == 0, stream.stderr
    records = json_lines(stream.stdout)
    assert [r for r in records if r["type"] == "TokenRenewed"]
    assert [r for r in records if r["type"] == "MarketData"]
    last = kept(path)
    assert last["access_token"] != first["access_token"]  # written back after each renewal
    tokens = {first["access_token"], first["md_access_token"]}
    tokens |= {last["access_token"], last["md_access_token"]}
    assert_no_secret({sim["password"], sim["sec"], *tokens}, login, stream)


def browse(address: str) -> tuple[str, str]:
    """What a browser does with the grant address: follow cTrader's redirect to the loopback
    listener. Returns the code it carried and the page the listener showed."""

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(Stop).open(address, timeout=10)
    location = redirect.value.headers["Location"]
    redirect.value.close()
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    with urllib.request.urlopen(location, timeout=10) as page:  # noqa: S310 - loopback
        return code, page.read().decode()


def test_login_ctrader_then_stream_refreshes(ctrader_sim: dict[str, str], tmp_path: Path) -> None:
    sim = ctrader_sim
    env = environment(
        XDG_CONFIG_HOME=str(tmp_path),
        CTRADER_CLIENT_ID=sim["client id"],
        CTRADER_CLIENT_SECRET=sim["client secret"],
    )
    with start_cli(
        "login", "ctrader", "--oauth-url", sim["OAuth URL"], "--log-level", "debug", env=env
    ) as process:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert lines[0].startswith("Open this address")
        code, page = browse(lines[1].strip())
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "access granted" in page
    login = subprocess.CompletedProcess(process.args, 0, "".join(lines) + out, err)
    path = tmp_path / "brokerwire" / "ctrader-tokens.json"
    first = kept(path)
    stream = run_cli(
        "stream", "ctrader", "--url", sim["WebSocket"].split(" ")[0], "--symbol", "EURUSD",
        "--symbol", "GBPUSD", "--duration", "6", "--log-level", "debug", env=env,
    )  # fmt: skip
    assert stream.returncode == 0, stream.stderr
    records = json_lines(stream.stdout)
    assert len([r for r in records if r["type"] == "TokenRenewed"]) >= 2
    invalidated = [i for i, r in enumerate(records) if r["type"] == "TokenInvalidated"]
    assert len(invalidated) >= 2
    spots = [r for r in records[invalidated[-1] :] if r["type"] == "SpotEvent"]
    assert {r["symbolId"] for r in spots} == {
        1,
        2,
    }  # both streams flow after the last refresh
    assert not [r for r in records if r["type"] in ("Disconnected", "Reconnected")]
    last = kept(path)
    assert last["refresh_token"] != first["refresh_token"]
    tokens = {first["access_token"], first["refresh_token"], last["access_token"]}
    tokens |= {last["refresh_token"]}
    assert_no_secret({sim["client secret"], code, *tokens}, login, stream)


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "brokerwire" / "ctrader-tokens.json"
    save_tokens(
        path,
        "ctrader",
        {
            "access_token": "at-kept-1",
            "refresh_token": "rt-kept-1",
            "expiration_time": "2099-01-01T00:00:00+00:00",
        },
    )
    os.chmod(path, 0o644)  # the mistake under test
    result = run_cli(
        "stream", "ctrader", "--url", "ws://127.0.0.1:9", "--symbol", "1", "--account", "5",
        env=environment(
            XDG_CONFIG_HOME=str(tmp_path), CTRADER_CLIENT_ID="id", CTRADER_CLIENT_SECRET="cs-1"
        ),
    )  # fmt: skip
    line = one_error_line(result)
    assert "open to other users (mode 0644)" in line
    assert "chmod 600" in line
    assert_no_secret({"at-kept-1", "rt-kept-1", "cs-1"}, result)


def test_login_tradovate_refused(tradovate_sim: dict[str, str], tmp_path: Path) -> None:
    env = tradovate_env(tradovate_sim, tmp_path, TRADOVATE_PASSWORD="not-the-password-7")
    result = run_cli("login", "tradovate", "--auth-url", tradovate_sim["auth URL"], env=env)
    assert "Incorrect username or password" in one_error_line(result)
    assert_no_secret({"not-the-password-7", tradovate_sim["sec"]}, result)
    assert not (tmp_path / "brokerwire" / "tradovate-tokens.json").exists()
