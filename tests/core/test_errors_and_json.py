"""The error classes and the JSON backend choice."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json

import pytest

from brokerwire.core import jsonlib
from brokerwire.core.errors import LocalProtocolError, ProtocolError, RemoteProtocolError


def test_protocol_error_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        ProtocolError("nobody raises this directly")


def test_local_and_remote_errors() -> None:
    local = LocalProtocolError("newline in endpoint")
    remote = RemoteProtocolError("bad frame", close_code=1002)
    assert isinstance(local, ProtocolError)
    assert isinstance(remote, ProtocolError)
    assert local.message == "newline in endpoint"
    assert remote.close_code == 1002
    assert remote == RemoteProtocolError("bad frame", 1002)
    assert remote != RemoteProtocolError("bad frame", 1007)
    assert "close_code=1002" in repr(remote)
    assert RemoteProtocolError("x").close_code is None


def test_backend_follows_what_is_installed() -> None:
    expected = "orjson" if importlib.util.find_spec("orjson") else "json"
    assert expected == jsonlib.BACKEND


@pytest.mark.parametrize("kind", [str, bytes, bytearray, memoryview])
def test_loads_from_every_input_type(kind: type) -> None:
    text = '{"price":18405.25,"name":"ESZ6","ids":[1,2],"é":null}'
    data = text if kind is str else kind(text.encode())
    assert jsonlib.loads(data) == {"price": 18405.25, "name": "ESZ6", "ids": [1, 2], "é": None}


@pytest.mark.parametrize("bad", [b"{", b"nope", b'{"a":1}x', b"\xff\xfe{}", b'{"a":"\xc3"}', b""])
def test_invalid_json_raises_one_exception_type(bad: bytes) -> None:
    with pytest.raises(jsonlib.JSONDecodeError):
        jsonlib.loads(bad)
    assert issubclass(jsonlib.JSONDecodeError, ValueError)


DOCUMENTS = [
    '{"price":18405.25,"name":"ESZ6","ids":[1,2],"\u00e9":null}',
    "[1, 2.5e3, -0, true, false, null]",
    ' \t{"padded": "on both sides"}\n ',
    '"a string"',
    "[]",
    '{"nested":{"deeper":[{"x":"\u00e9\u4e2d"}]}}',
]


@pytest.mark.parametrize("text", DOCUMENTS)
@pytest.mark.parametrize("prefix", ["", "a"])
def test_the_hot_path_parses_as_loads_does(text: str, prefix: str) -> None:
    data = (prefix + text).encode()
    expected = json.loads(text)
    assert jsonlib.loads_utf8_from(data, len(prefix)) == expected
    if not prefix:
        assert jsonlib.loads_utf8(data) == expected


@pytest.mark.parametrize(
    "bad", [b"{", b"nope", b'{"a":1}x', b'{"a":1} {}', b"\xff\xfe{}", b'{"a":"\xc3"}', b"", b" "]
)
def test_the_hot_path_refuses_what_loads_refuses(bad: bytes) -> None:
    for data, start in ((bad, 0), (b"a" + bad, 1)):
        with pytest.raises(jsonlib.JSONDecodeError):
            jsonlib.loads_utf8_from(data, start)
    with pytest.raises(jsonlib.JSONDecodeError):
        jsonlib.loads_utf8(bad)


def test_the_hot_path_reports_where_the_error_is() -> None:
    with pytest.raises(jsonlib.JSONDecodeError) as error:
        jsonlib.loads_utf8(b'{"a": [1, 2,, 3]}')
    assert "line 1 column" in str(error.value)


@pytest.mark.parametrize(
    "bad", [b"[1 2]", b'{"x" 1}', b"[1,,2]", b'{"a":[1,2,}', b"[1]x", b'["\xc3"]', b"\xff[]"]
)
def test_an_errors_position_counts_from_the_start_of_the_document(bad: bytes) -> None:
    """After a prefix, the hot path names the place ``loads`` names in the document alone."""
    with pytest.raises(jsonlib.JSONDecodeError) as alone:
        jsonlib.loads(bad)
    with pytest.raises(jsonlib.JSONDecodeError) as after_prefix:
        jsonlib.loads_utf8_from(b"a" + bad, 1)
    assert after_prefix.value.pos == alone.value.pos


#: Documents Python's json takes and orjson refuses: brokerwire takes them with either backend.
ORJSON_REFUSES = [
    '{"note":"cut in a pair \\ud83d"}',
    '["\\udc00 alone"]',
    '{"price":NaN,"high":Infinity,"low":-Infinity}',
    "[1e400]",
]


@pytest.mark.parametrize("text", ORJSON_REFUSES)
def test_both_backends_take_what_json_takes(text: str) -> None:
    expected = repr(json.loads(text))  # repr: NaN is not equal to itself
    data = text.encode()
    assert repr(jsonlib.loads(text)) == expected
    assert repr(jsonlib.loads(data)) == expected
    assert repr(jsonlib.loads(memoryview(data))) == expected
    assert repr(jsonlib.loads_utf8(data)) == expected
    assert repr(jsonlib.loads_utf8_from(b"a" + data, 1)) == expected
    assert repr(jsonlib.json_loads_utf8_from(b"a" + data, 1)) == expected
    try:
        fast = jsonlib.fast_loads_utf8(data)
    except jsonlib.JSONDecodeError:
        assert jsonlib.BACKEND == "orjson", "only orjson's hot path may refuse it"
    else:
        assert repr(fast) == expected


@pytest.mark.parametrize("bad", [b"[1 2]", b'{"a":}', b"[NaNa]", b"\xff[]", b'["\\ud8"]'])
def test_errors_are_worded_as_json_words_them(bad: bytes) -> None:
    """Whichever backend parsed, the error a user reads is the standard library's."""
    try:
        json.loads(bad)
    except json.JSONDecodeError as exc:
        expected = exc.msg
    except UnicodeDecodeError as exc:
        expected = f"invalid UTF-8: {exc.reason}"
    for attempt in (
        lambda: jsonlib.loads(bad),
        lambda: jsonlib.loads_utf8(bad),
        lambda: jsonlib.loads_utf8_from(b"a" + bad, 1),
        lambda: jsonlib.json_loads_utf8_from(b"a" + bad, 1),
    ):
        with pytest.raises(json.JSONDecodeError) as error:
            attempt()
        assert error.value.msg == expected


def test_dumps_writes_a_lone_surrogate_as_its_escape() -> None:
    value = {"note": "cut \ud83d", "name": "caf\u00e9"}
    encoded = jsonlib.dumps(value)
    assert b"\\ud83d" in encoded
    assert jsonlib.loads(encoded) == value
    assert jsonlib.dumps_str(value) == encoded.decode()


def test_dumps_writes_an_integer_beyond_64_bits() -> None:
    assert jsonlib.dumps([2**70]) == b"[1180591620717411303424]"


def test_scan_text_is_the_standard_librarys_scanner_or_none() -> None:
    if jsonlib.BACKEND == "orjson":
        assert jsonlib.scan_text is None
        return
    assert jsonlib.scan_text is not None
    text = 'a[{"price":1.5},"\u00e9"] '
    assert jsonlib.scan_text(text, 1) == ([{"price": 1.5}, "\u00e9"], len(text) - 1)
    with pytest.raises(StopIteration):
        jsonlib.scan_text(text, len(text))
    with pytest.raises(jsonlib.JSONDecodeError):
        jsonlib.scan_text('{"a" 1}', 0)


def test_dumps_is_compact_utf8() -> None:
    value = {"symbol": "ESZ6", "n": [1, 2.5, True, None], "text": "é"}
    encoded = jsonlib.dumps(value)
    assert isinstance(encoded, bytes)
    assert encoded == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert jsonlib.dumps_str(value) == encoded.decode()


@pytest.mark.parametrize("package", ["brokerwire.core", "brokerwire.adapters"])
def test_typing_marker_ships_with_the_package(package: str) -> None:
    assert importlib.resources.files(package).joinpath("py.typed").is_file()
