"""The core's Secret and URL redaction."""

from __future__ import annotations

import pytest

from brokerwire.core.secret import Secret, redact_url, reveal


def test_a_secret_never_shows_itself() -> None:
    secret = Secret("s3cr3t")
    assert repr(secret) == str(secret) == f"{secret}" == "<redacted>"
    assert "s3cr3t" not in repr([secret, {"k": secret}])
    assert secret.reveal() == "s3cr3t"


def test_secrets_compare_by_value_and_reveal_takes_either_form() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a")}) == 1
    assert reveal(Secret("a")) == reveal("a") == "a"
    assert not Secret("")


def test_a_secret_holds_text_only() -> None:
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_credential_query_parameters_are_hidden_and_others_kept() -> None:
    url = (
        "https://openapi.ctrader.com/apps/token?grant_type=refresh_token"
        "&refresh_token=R1&client_id=C&client_secret=S2&code=K3"
    )
    shown = redact_url(url)
    for secret in ("R1", "S2", "K3"):
        assert secret not in shown
    assert "grant_type=refresh_token" in shown
    assert "client_id=C" in shown
    assert "client_secret=<redacted>" in shown
    assert redact_url("https://example.test/a") == "https://example.test/a"
