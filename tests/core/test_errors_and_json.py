"""The error classes and the one JSON engine."""

from __future__ import annotations

import importlib.resources
import json

import msgspec
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


@pytest.mark.parametrize("kind", [str, bytes, bytearray, memoryview])
def test_loads_from_every_input_type(kind: type) -> None:
    text = '{"price":18405.25,"name":"ESZ6","ids":[1,2],"é":null}'
    data = text if kind is str else kind(text.encode())
    assert jsonlib.loads(data) == {"price": 18405.25, "name": "ESZ6", "ids": [1, 2], "é": None}


DOCUMENTS = [
    '{"price":18405.25,"name":"ESZ6","ids":[1,2],"\u00e9":null}',
    "[1, 2.5e3, -0, true, false, null]",
    ' \t{"padded": "on both sides"}\n ',
    '"a string"',
    "[]",
    '{"nested":{"deeper":[{"x":"\u00e9\u4e2d"}]}}',
    '["a pair \\ud83d\\ude00 of escapes"]',
    "[123456789012345678901234567890, -98765432109876543210]",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_valid_json_reads_as_the_standard_library_reads_it(text: str) -> None:
    assert jsonlib.loads(text.encode()) == json.loads(text)


#: What RFC 8259 does not allow, though Python's json takes some of it.
NOT_JSON = [
    b"{",
    b"nope",
    b'{"a":1}x',
    b'{"a":1} {}',
    b"\xff\xfe{}",
    b'{"a":"\xc3"}',
    b"",
    b" ",
    b'{"price":NaN}',
    b"[Infinity]",
    b'{"note":"cut in a pair \\ud83d"}',
    b'["\\udc00 alone"]',
    b"[1e400]",
    b"[01]",
    b"[1,]",
]


@pytest.mark.parametrize("bad", NOT_JSON)
def test_invalid_json_raises_one_exception_type(bad: bytes) -> None:
    with pytest.raises(jsonlib.JSONDecodeError):
        jsonlib.loads(bad)
    assert issubclass(jsonlib.JSONDecodeError, ValueError)


def test_the_error_says_where_the_problem_is() -> None:
    with pytest.raises(jsonlib.JSONDecodeError, match="byte 12"):
        jsonlib.loads(b'{"a": [1, 2,, 3]}')


def test_nesting_deeper_than_the_interpreter_allows_raises_recursion_error() -> None:
    with pytest.raises(RecursionError):
        jsonlib.loads(b"[" * 100_000 + b"]" * 100_000)


class _Spot(msgspec.Struct, frozen=True):
    symbol_id: int = msgspec.field(name="symbolId")
    bid: int | None = None


def test_a_typed_decoder_reads_numeric_strings_as_numbers_when_asked() -> None:
    lax = jsonlib.decoder(_Spot, numeric_strings=True)
    assert lax(b'{"symbolId":"7","bid":"123456789012","extra":[1]}') == _Spot(7, 123456789012)
    with pytest.raises(jsonlib.ValidationError):
        jsonlib.decoder(_Spot)(b'{"symbolId":"7"}')
    assert jsonlib.convert({"symbolId": "7"}, _Spot, numeric_strings=True) == _Spot(7)
    with pytest.raises(jsonlib.ValidationError):
        jsonlib.convert({"symbolId": "7"}, _Spot)


@pytest.mark.parametrize("wrong", [b'{"symbolId":"x"}', b'{"bid":1}', b'{"symbolId":1.5}', b"[]"])
def test_a_typed_decoder_refuses_a_wrong_shape_with_a_validation_error(wrong: bytes) -> None:
    with pytest.raises(jsonlib.ValidationError) as error:
        jsonlib.decoder(_Spot, numeric_strings=True)(wrong)
    assert issubclass(jsonlib.ValidationError, jsonlib.JSONDecodeError)
    assert str(error.value)
    with pytest.raises(jsonlib.ValidationError):
        jsonlib.convert(jsonlib.loads(wrong), _Spot)


def test_structs_are_written_and_listed_by_wire_name() -> None:
    spot = _Spot(7, 120)
    assert jsonlib.dumps(spot) == b'{"symbolId":7,"bid":120}'
    assert jsonlib.to_builtins([spot]) == [{"symbolId": 7, "bid": 120}]
    assert jsonlib.convert({"symbolId": 7, "bid": 120}, _Spot) == spot


def test_dumps_refuses_a_lone_surrogate_as_the_callers_mistake() -> None:
    with pytest.raises(LocalProtocolError, match="surrogate"):
        jsonlib.dumps({"note": "cut \ud83d"})


def test_dumps_writes_an_integer_beyond_64_bits() -> None:
    assert jsonlib.dumps([2**70]) == b"[1180591620717411303424]"
    assert jsonlib.loads(jsonlib.dumps([2**70])) == [2**70]


def test_dumps_is_compact_utf8() -> None:
    value = {"symbol": "ESZ6", "n": [1, 2.5, True, None], "text": "é"}
    encoded = jsonlib.dumps(value)
    assert isinstance(encoded, bytes)
    assert encoded == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert jsonlib.dumps_str(value) == encoded.decode()


@pytest.mark.parametrize("package", ["brokerwire.core", "brokerwire.adapters"])
def test_typing_marker_ships_with_the_package(package: str) -> None:
    assert importlib.resources.files(package).joinpath("py.typed").is_file()
