"""The envelope codec on the documented and captured examples, and on bad input."""

from __future__ import annotations

import pytest

from brokerwire.core.ctrader import Envelope, EnvelopeError, decode_envelope, encode_envelope
from brokerwire.core.jsonlib import loads

# reference/ctrader.md §8 and the seed document
DOCUMENTED = [
    (
        '{"clientMsgId": "cm_id_2", "payloadType": 2100, "payload": {"clientId": "34Rsd_T098asHkl",'
        '"clientSecret": "validClientSecret"}}',
        Envelope(
            2100, {"clientId": "34Rsd_T098asHkl", "clientSecret": "validClientSecret"}, "cm_id_2"
        ),
    ),
    ('{"payloadType":2101}', Envelope(2101, {}, None)),
    ('{"payloadType":51}', Envelope(51, {}, None)),
    (
        '{"payloadType":2142,"payload":{"errorCode":"INVALID_REQUEST",'
        '"description":"Malformed JSON message at 1:6"}}',
        Envelope(
            2142,
            {"errorCode": "INVALID_REQUEST", "description": "Malformed JSON message at 1:6"},
            None,
        ),
    ),
    (
        '{"payloadType": 2142, "payload": {"errorCode": "CH_CLIENT_AUTH_FAILURE", "description": '
        '"clientId or clientSecret is incorrect"}}',
        Envelope(
            2142,
            {
                "errorCode": "CH_CLIENT_AUTH_FAILURE",
                "description": "clientId or clientSecret is incorrect",
            },
            None,
        ),
    ),
    (
        '{"payloadType": 2103, "clientMsgId": "m1", "payload": {"ctidTraderAccountId": 47561867}}',
        Envelope(2103, {"ctidTraderAccountId": 47561867}, "m1"),
    ),
    (
        '{"payloadType":2131,"payload":{"ctidTraderAccountId":12345678,"symbolId":1,"bid":108512,"ask":108514}}',
        Envelope(
            2131,
            {"ctidTraderAccountId": 12345678, "symbolId": 1, "bid": 108512, "ask": 108514},
            None,
        ),
    ),
]


@pytest.mark.parametrize(("text", "envelope"), DOCUMENTED)
def test_documented_messages(text: str, envelope: Envelope) -> None:
    assert decode_envelope(text) == envelope
    assert decode_envelope(text.encode()) == envelope


def test_tolerant_decoding() -> None:
    assert decode_envelope('{"payloadType":"2131","payload":{"bid":"108512"}}') == Envelope(
        2131, {"bid": "108512"}, None
    )
    assert decode_envelope('{"payloadType":2103,"clientMsgId":17}') == Envelope(2103, {}, "17")
    assert decode_envelope('{"payloadType":2101,"payload":null}') == Envelope(2101, {}, None)
    assert decode_envelope('{"payloadType":9999,"payload":{"x":1}}') == Envelope(
        9999, {"x": 1}, None
    )


@pytest.mark.parametrize(
    ("text", "words", "code"),
    [
        ("hello", "invalid JSON", 1007),
        ('{"payloadType":51', "invalid JSON", 1007),
        ("[51]", "must be a JSON object, not list", 1002),
        ('"text"', "must be a JSON object, not str", 1002),
        ('{"payload":{}}', "missing or non-integer payloadType", 1002),
        ('{"payloadType":"fifty"}', "missing or non-integer payloadType", 1002),
        ('{"payloadType":51.5}', "missing or non-integer payloadType", 1002),
        ('{"payloadType":true}', "missing or non-integer payloadType", 1002),
        ('{"payloadType":2101,"payload":[1]}', "payload must be a JSON object, not list", 1002),
        ('{"payloadType":2101,"payload":"x"}', "payload must be a JSON object, not str", 1002),
        ('{"payloadType":2101,"clientMsgId":["a"]}', "clientMsgId must be a string", 1002),
        ("\u00e9t\u00e9 " * 50, "invalid JSON", 1007),
        ('{"payloadType":"' + "\u00e9" * 200 + '"}', "missing or non-integer payloadType", 1002),
    ],
)
def test_bad_envelopes(text: str, words: str, code: int) -> None:
    with pytest.raises(EnvelopeError) as info:
        decode_envelope(text)
    assert words in info.value.message
    assert info.value.close_code == code
    with pytest.raises(EnvelopeError) as from_bytes:
        decode_envelope(text.encode())
    assert from_bytes.value.message == info.value.message, "the same words from bytes as text"
    assert len(info.value.message) < 300, "a long message is quoted in part"


def test_bytes_that_are_not_utf8_are_not_json_to_the_codec() -> None:
    # Whether they break the rule for text is the transport's to say: the connections ask it
    # (tests/core/test_peer_errors.py); the codec only knows they do not parse.
    with pytest.raises(EnvelopeError) as info:
        decode_envelope(b'{"payloadType":2131,"payload":{"s":"caf\xc3"}}')
    assert info.value.message.startswith("invalid JSON (")
    assert info.value.close_code == 1007


def test_encode() -> None:
    assert encode_envelope(51) == b'{"payloadType":51}'
    encoded = encode_envelope(2100, {"clientId": "a", "clientSecret": "b"}, "cm_id_2")
    assert loads(encoded) == {
        "clientMsgId": "cm_id_2",
        "payloadType": 2100,
        "payload": {"clientId": "a", "clientSecret": "b"},
    }
    assert decode_envelope(encoded) == Envelope(
        2100, {"clientId": "a", "clientSecret": "b"}, "cm_id_2"
    )


def test_secrets_are_redacted_in_reprs() -> None:
    envelope = decode_envelope(DOCUMENTED[0][0])
    assert "validClientSecret" not in repr(envelope)
    assert "34Rsd_T098asHkl" in repr(envelope)
