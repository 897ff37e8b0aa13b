"""The benchmark measures what it says it measures, and checks the targets as they are set."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import msgspec
import pytest

from benchmarks import floors, impls, models
from benchmarks.__main__ import _target_lines, main
from benchmarks.memory import LIMIT, measure_memory, measure_retention
from benchmarks.run import TARGETS, BenchmarkError, Result, check_targets, measure
from benchmarks.streams import WORKLOADS, Workload, chunked

_WEBSOCKET = {"tradovate-ws-quotes", "tradovate-ws-batched", "ctrader-ws-spots", "large"}
_TYPED = {"tradovate-ws-quotes", "ctrader-ws-spots", "ctrader-tcp-spots"}
_EVERY = set(WORKLOADS)

#: the workloads each decoder applies to
_APPLIES = {
    "brokerwire": _EVERY,
    "brokerwire-list": _EVERY,
    "naive-wsproto": _WEBSOCKET,
    "websockets": _WEBSOCKET,
    "websockets-orjson": _WEBSOCKET,
    "frames-msgspec": _EVERY,
    "json-floor": _EVERY,
    "orjson-floor": _EVERY,
    "msgspec-floor": _TYPED,
}
#: the decoders that need a library of the bench extra, and whether it is installed
_INSTALLED = {
    "websockets": impls.HAVE_WEBSOCKETS,
    "websockets-orjson": impls.HAVE_WEBSOCKETS and impls.HAVE_ORJSON,
    "orjson-floor": impls.HAVE_ORJSON,
}
#: the workloads each decoder must measure: a decoder left out of one of them fails the test
_MEASURES = {
    impl: names if _INSTALLED.get(impl, True) else set() for impl, names in _APPLIES.items()
}


def _workload(name: str) -> Workload:
    return WORKLOADS[name][0](2 if name == "large" else 1000)


def test_every_decoder_is_held_to_the_workloads_it_must_measure() -> None:
    assert set(_APPLIES) == set(impls.DECODERS)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_every_decoder_delivers_every_message_of_a_workload(name: str) -> None:
    # The benchmark refuses a timing whose count is off; here each decoder is held to it alone,
    # on a stream long enough that frames straddle its 64 KiB chunks.
    workload = _workload(name)
    chunks = chunked(workload.data)
    assert len(chunks) > 1
    measured = set()
    for impl, decoder in impls.DECODERS.items():
        run = decoder(workload)
        if run is not None:
            assert run(chunks) == workload.messages, impl
            measured.add(impl)
    assert measured == {impl for impl, names in _MEASURES.items() if name in names}


def test_a_decoder_that_delivers_nothing_fails_the_benchmark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workload = _workload("ctrader-tcp-spots")
    monkeypatch.setitem(impls.DECODERS, "idle", lambda w: lambda chunks: 0)
    with pytest.raises(BenchmarkError, match="idle delivered 0 of the 1000 messages"):
        measure(workload, ["brokerwire", "idle"], 1, warmup=False)


@pytest.mark.parametrize(
    ("impl", "error"),
    [
        ("json-floor", json.JSONDecodeError),
        ("orjson-floor", json.JSONDecodeError),  # orjson's error is a subclass of json's
        ("msgspec-floor", msgspec.DecodeError),
    ],
)
def test_a_floor_decodes_its_payloads_rather_than_counting_them(
    impl: str, error: type[Exception]
) -> None:
    workload = _workload("ctrader-tcp-spots")
    broken = workload._replace(payloads=[*workload.payloads[:-1], b'{"payloadType":2131,'])
    run = impls.DECODERS[impl](broken)
    assert (run is not None) == ("ctrader-tcp-spots" in _MEASURES[impl])
    if run is not None:
        with pytest.raises(error):
            run([])


@pytest.mark.parametrize("name", sorted(_TYPED))
def test_the_msgspec_floor_holds_what_the_dicts_hold_in_frozen_untracked_structs(
    name: str,
) -> None:
    workload = _workload(name)
    decode = floors.typed_decoder(workload)
    assert decode is not None
    for payload in workload.payloads[:50]:
        value = decode(payload)
        assert msgspec.to_builtins(value) == json.loads(payload)
    message = decode(workload.payloads[0])
    typed = message[0].d.quotes[0] if name.startswith("tradovate") else message.payload
    assert not gc.is_tracked(typed)
    with pytest.raises(AttributeError):
        typed.timestamp = "changed"


def test_the_msgspec_floor_checks_the_types_it_promises() -> None:
    # A spot whose bid is text is valid JSON that the typed models refuse.
    spot = b'{"payloadType":2131,"payload":{"ctidTraderAccountId":1,"symbolId":1,"bid":"x"}}'
    with pytest.raises(msgspec.ValidationError, match=r"payload.bid"):
        models.SPOT_EVENT.decode(spot)
    other = b'{"payloadType":2155,"payload":{"ctidTraderAccountId":1,"symbolId":1}}'
    with pytest.raises(msgspec.ValidationError, match="payloadType"):
        models.SPOT_EVENT.decode(other)


def test_frames_msgspec_reads_with_brokerwires_own_transport_and_nothing_above_it() -> None:
    # A stream that breaks the broker's rules but not the framing's or JSON's: the broker layer
    # would not deliver those messages, the transport alone counts every message in it.
    workload = _workload("tradovate-ws-batched")
    chunks = chunked(workload.data.replace(b'"e":"md"', b'"e":"zz"'))
    assert impls.frames_msgspec(workload)(chunks) == workload.messages
    run = impls.brokerwire(workload)
    assert run is not None
    assert run(chunks) < workload.messages


def test_every_target_is_on_a_workload_its_baseline_measures() -> None:
    # A target whose baseline gives no result would never be checked, and never be seen missing.
    for target in TARGETS:
        assert target.workload in _APPLIES[target.baseline], target


def test_a_target_is_checked_on_the_medians_and_shown_round_by_round() -> None:
    # Three rounds of 1,000 messages, in which the medians and the rounds tell different stories.
    ours = Result("ctrader-tcp-spots", "brokerwire", 1000, 10**5, 1.0, (1.0, 1.0, 3.0))
    floor = Result("ctrader-tcp-spots", "orjson-floor", 1000, 10**5, 2.0, (2.0, 1.0, 2.0))
    (outcome,) = check_targets([ours, floor])
    assert outcome.target.baseline == "orjson-floor"
    assert outcome.target.minimum == 0.7
    assert outcome.ratio == 2.0  # the medians: 1.0 s against 2.0 s
    assert outcome.paired_ratio == 1.0  # the rounds: 2.0, 1.0 and 0.67
    assert outcome.met
    (line,) = _target_lines([outcome])
    expected = "ctrader-tcp-spots vs orjson-floor 2.00 x (required 0.70 x) pass"
    assert line.split() == [*expected.split(), "round", "by", "round", "1.00", "x"]
    slow = ours._replace(seconds=4.0, runs=(4.0, 4.0, 4.0))
    (missed,) = check_targets([slow, floor])
    assert not missed.met
    assert "(required 0.70 x) FAIL" in " ".join(_target_lines([missed])[0].split())


def test_a_required_implementation_without_a_result_fails_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # CI requires the websockets baseline: a baseline that went missing must not go unseen.
    # websockets decodes WebSocket streams only, so a TCP workload has no result from it.
    quick = ["--quick", "--no-memory", "--repeats", "1", "--workload", "ctrader-tcp-spots"]
    assert main([*quick, "--require", "msgspec-floor"]) == 0
    assert main([*quick, "--require", "msgspec-floor", "--require", "websockets"]) == 1
    assert "no result from websockets" in capsys.readouterr().err


def test_the_json_document_has_the_baselines_and_their_targets(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    quick = ["--quick", "--no-memory", "--repeats", "1", "--workload", "ctrader-tcp-spots"]
    assert main([*quick, "--json", str(path)]) == 0
    document = json.loads(path.read_text(encoding="utf-8"))
    impls_measured = {r["impl"] for r in document["results"]}
    assert {"brokerwire", "json-floor", "msgspec-floor"} <= impls_measured
    assert ("orjson-floor" in impls_measured) == impls.HAVE_ORJSON
    assert all(r["messages"] == 20_000 for r in document["results"])
    baselines = {t["baseline"]: t for t in document["targets"]}
    assert baselines["msgspec-floor"]["minimum"] == 0.6
    assert ("orjson-floor" in baselines) == impls.HAVE_ORJSON
    assert "msgspec" in document["versions"]


def test_decoding_a_long_stream_stays_within_the_memory_limit() -> None:
    # A short stream: the full run decodes a gigabyte; here only that the figures are real.
    for result in measure_memory(2 * 1024 * 1024):
        assert result.bytes_decoded == 2 * 1024 * 1024
        assert result.events > 0
        assert 0 < result.peak_bytes < LIMIT


def test_the_bytes_each_kept_quote_event_holds_are_measured_in_both_forms() -> None:
    retention = measure_retention(500)
    assert retention.events == 500
    # A quote is a timestamp, a contract and seven entries: some hundreds of bytes in any form.
    assert retention.typed_bytes > 100
    assert retention.dict_bytes > 100
    assert retention.dict_library == ("orjson" if impls.HAVE_ORJSON else "json")
