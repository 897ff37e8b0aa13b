"""``receive_messages``: the same stream as ``receive_data``, whole text frames as bytes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from brokerwire.core.transport import TextMessage
from brokerwire.core.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_PING, OP_TEXT
from tests.helpers import open_client, server_frame, split_at

texts = st.text(max_size=300).map(str.encode)
frames = st.one_of(
    texts.map(lambda t: server_frame(OP_TEXT, t)),
    st.binary(max_size=200).map(lambda b: server_frame(OP_BINARY, b)),
    st.binary(max_size=125).map(lambda b: server_frame(OP_PING, b)),
    texts.map(
        lambda t: server_frame(OP_TEXT, t[:3], fin=False) + server_frame(OP_CONTINUATION, t[3:])
    ),
    st.sampled_from([b"\xff\xfe", b"ok\xc3"]).map(lambda b: server_frame(OP_TEXT, b)),
    st.just(b"\xc1\x00"),  # a reserved bit: the connection fails
)


def _as_events(items: list[Any]) -> list[Any]:
    return [TextMessage(i.decode(errors="replace")) if type(i) is bytes else i for i in items]


@given(st.lists(frames, max_size=12), st.lists(st.integers(1, 4000), max_size=10))
def test_same_events_with_text_as_bytes(stream: list[bytes], cuts: list[int]) -> None:
    data = b"".join(stream)
    settings: dict[str, Any] = {"ping_interval": None, "random_bytes": lambda n: b"\x5a" * n}
    plain, raw = open_client(**settings), open_client(**settings)
    expected: list[Any] = []
    got: list[Any] = []
    for chunk in [*split_at(data, cuts), b""]:
        expected += plain.receive_data(chunk, 0.0)
        got += raw.receive_messages(chunk, 0.0)
    # Where receive_data refused bad UTF-8 (1007), receive_messages hands the bytes on, to be
    # checked by the layer that parses them: compare up to that point.
    bad_text = [i for i, item in enumerate(got) if type(item) is bytes and not _valid_utf8(item)]
    if bad_text:
        assert _as_events(got[: bad_text[0]]) == expected[: bad_text[0]]
        assert expected[bad_text[0]].code == 1007
    else:
        assert _as_events(got) == expected
        assert plain.data_to_send() == raw.data_to_send()


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True
