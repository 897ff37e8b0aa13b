"""The generated cTrader models against the .proto tables they come from.

The tables (tests/core/ctrader/data/openapi-proto-tables.md) are read here by a parser of this
file's own, not by the generator's, so a mistake in the generator's reading shows as a
difference.
"""

from __future__ import annotations

import enum
import gc
import re
import types
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest

from brokerwire.core.ctrader import MESSAGE_NAMES, models
from brokerwire.core.ctrader import tables as ctrader_tables
from tests.codegen import ctrader_models as generator

DATA = Path(__file__).parent / "data" / "openapi-proto-tables.md"
MESSAGE_FILES = {"OpenApiMessages.proto", "OpenApiCommonMessages.proto"}
MODEL_FILE = "OpenApiModelMessages.proto"


class Table(typing.NamedTuple):
    proto_name: str
    file: str
    kind: str  # "message" or "enum"
    rows: list[list[str]]  # the cells of each row, backticks removed


def read_tables() -> list[Table]:
    """Every `#### `Name`` section holding a table, with the .proto file it is under."""
    found: list[Table] = []
    for section in re.split(r"^(?=###? )", DATA.read_text(encoding="utf-8"), flags=re.M):
        files = re.findall(r"`(\w+\.proto)`", section.splitlines()[0])
        file = files[0] if files and section.startswith("### ") else ""
        for block in section.split("\n#### `")[1:]:
            name = block.split("`", 1)[0]
            lines = [line for line in block.splitlines() if line.startswith("|")]
            header = lines[0]
            rows = [
                [cell.strip().strip("`") for cell in line.strip("|").split("|")]
                for line in lines[2:]
            ]
            kind = "enum" if header.startswith("| Name | Value") else "message"
            found.append(Table(name, file, kind, rows))
    return found


TABLES = read_tables()
MESSAGE_TABLES = [t for t in TABLES if t.kind == "message"]
ENUM_TABLES = [t for t in TABLES if t.kind == "enum"]


def python_name(proto_name: str, file: str) -> str:
    """The documented naming rule, written out again."""
    bare = re.sub(r"^Proto(OA)?", "", proto_name)
    bare = bare[0].upper() + bare[1:]
    if "Common" in file:
        open_api = {re.sub(r"^ProtoOA", "", t.proto_name) for t in TABLES if "Common" not in t.file}
        if bare in {n[0].upper() + n[1:] for n in open_api}:
            return "Common" + bare
    return bare


def model_class(table: Table) -> Any:
    return getattr(models, python_name(table.proto_name, table.file))


def generated_structs() -> list[type[msgspec.Struct]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, models.OpenApiModel)
        and value not in (models.OpenApiModel, models.OpenApiMessage)
    ]


def is_payload(table: Table) -> bool:
    return any(row[3] == "payloadType" and row[4] for row in table.rows)


def field_rows(table: Table) -> list[list[str]]:
    """The rows that are payload fields: payloadType belongs to the envelope, not the payload."""
    if is_payload(table):
        return [row for row in table.rows if row[3] != "payloadType"]
    return table.rows


# --- coverage and naming ---------------------------------------------------------------------


def test_the_tables_hold_every_message_entity_and_enum() -> None:
    files = {t.file for t in MESSAGE_TABLES}
    assert files == MESSAGE_FILES | {MODEL_FILE}
    assert {t.file for t in ENUM_TABLES} == {MODEL_FILE, "OpenApiCommonModelMessages.proto"}
    # every message a payload type names (section 3.2) has its field table
    named = {name for name in MESSAGE_NAMES.values() if name.startswith("Proto")}
    assert named <= {t.proto_name for t in MESSAGE_TABLES}
    # every message or enum type a field refers to has its table
    defined = {t.proto_name for t in TABLES}
    referred = {row[2] for t in MESSAGE_TABLES for row in t.rows if row[2].startswith("Proto")}
    assert referred <= defined


def test_one_struct_per_message_and_entity_and_nothing_else() -> None:
    expected = {python_name(t.proto_name, t.file) for t in MESSAGE_TABLES}
    assert len(expected) == len(MESSAGE_TABLES)  # the naming rule leaves no clash
    assert {cls.__name__ for cls in generated_structs()} == expected
    enums = {
        value.__name__
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, enum.IntEnum)
    }
    assert enums == {python_name(t.proto_name, t.file) for t in ENUM_TABLES}


def test_names_follow_the_documented_rule() -> None:
    assert models.NewOrderReq.PAYLOAD_TYPE == 2106
    assert models.SpotEvent.PAYLOAD_TYPE == 2131
    assert models.HeartbeatEvent.PAYLOAD_TYPE == 51
    assert models.ErrorRes.PAYLOAD_TYPE == 2142  # ProtoOAErrorRes
    assert models.CommonErrorRes.PAYLOAD_TYPE == 50  # ProtoErrorRes
    assert models.CommonErrorCode(8).name == "FRAME_TOO_LONG"  # ProtoErrorCode
    assert models.ErrorCode(120).name == "POSITION_NOT_FOUND"  # ProtoOAErrorCode
    assert models.CommonPayloadType(51).name == "HEARTBEAT_EVENT"
    assert models.PayloadType(2131).name == "PROTO_OA_SPOT_EVENT"
    assert "ProtoOASymbol`` of" in (models.Symbol.__doc__ or "")


# --- fields: wire names, requiredness, repeatedness, types -----------------------------------


SCALARS: dict[str, type] = {
    "int32": int,
    "int64": int,
    "uint32": int,
    "uint64": int,
    "double": float,
    "bool": bool,
    "string": str,
}


def _split_optional(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return inner, True
    return annotation, False


def _check_label(info: msgspec.structs.FieldInfo, hint: Any, label: str, wire: str) -> Any:
    """Check a field against its table's label; returns the type of one value of it."""
    annotation, optional = _split_optional(hint)
    if label == "repeated":
        assert typing.get_origin(annotation) is list, wire
        assert not optional
        assert info.default_factory is list
        (annotation,) = typing.get_args(annotation)
    elif label == "optional":
        assert optional, wire
        assert info.default is None
    else:
        assert label == "required"
        assert not optional, wire
        assert info.required, wire
    return annotation


@pytest.mark.parametrize("table", MESSAGE_TABLES, ids=lambda t: t.proto_name)
def test_every_field_has_the_wire_name_label_and_type_of_its_table(table: Table) -> None:
    cls = model_class(table)
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    rows = field_rows(table)
    assert list(fields) == [row[3] for row in rows]
    hints = typing.get_type_hints(cls)
    for _number, label, proto_type, wire, _options, _comment in rows:
        info = fields[wire]
        words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", wire.replace("PnL", "Pnl"))
        assert info.name == "_".join(words).lower()
        annotation = _check_label(info, hints[info.name], label, wire)
        if table.proto_name == "ProtoMessage" and wire == "payload":
            assert annotation == dict[str, Any]  # the JSON form carries an object, not bytes
        elif proto_type in SCALARS:
            assert annotation is SCALARS[proto_type], wire
        else:
            referred = next(t for t in TABLES if t.proto_name == proto_type)
            assert annotation is model_class(referred), wire


def test_snake_case_names_of_awkward_wire_names() -> None:
    names = {f.encode_name: f.name for f in msgspec.structs.fields(models.Symbol)}
    assert names["skipSWAPPeriods"] == "skip_swap_periods"
    assert names["swapRollover3Days"] == "swap_rollover3_days"
    pnl = {f.encode_name: f.name for f in msgspec.structs.fields(models.PositionUnrealizedPnL)}
    assert pnl["grossUnrealizedPnL"] == "gross_unrealized_pnl"


@pytest.mark.parametrize("table", MESSAGE_TABLES, ids=lambda t: t.proto_name)
def test_docstrings_carry_the_proto_comments(table: Table) -> None:
    cls = model_class(table)
    doc = " ".join((cls.__doc__ or "").split())
    assert f"``{table.proto_name}``" in doc
    for row in field_rows(table):
        words = row[5].split()
        if words:
            attribute = next(f.name for f in msgspec.structs.fields(cls) if f.encode_name == row[3])
            assert f"{attribute}: {' '.join(words)}" in doc


# --- enums and payload types ------------------------------------------------------------------


@pytest.mark.parametrize("table", ENUM_TABLES, ids=lambda t: t.proto_name)
def test_every_enum_has_every_value_of_appendix_a(table: Table) -> None:
    cls = model_class(table)
    assert issubclass(cls, enum.IntEnum)
    assert [(m.name, m.value) for m in cls] == [(row[0], int(row[1])) for row in table.rows]


def test_payload_types_agree_with_the_hand_written_table() -> None:
    registry = models.MESSAGE_TYPES
    assert set(registry) == set(MESSAGE_NAMES) - {ctrader_tables.PayloadType.PROTO_MESSAGE}
    for payload_type, cls in registry.items():
        assert payload_type == cls.PAYLOAD_TYPE
        file = "OpenApiCommonMessages.proto" if payload_type < 2100 else "OpenApiMessages.proto"
        assert cls.__name__ == python_name(MESSAGE_NAMES[payload_type], file)
    values = {m.value for m in models.PayloadType} | {m.value for m in models.CommonPayloadType}
    assert values == {m.value for m in ctrader_tables.PayloadType}


def test_every_message_knows_its_payload_type_and_entities_have_none() -> None:
    for table in MESSAGE_TABLES:
        cls = model_class(table)
        if table.file in MESSAGE_FILES and is_payload(table):
            assert issubclass(cls, models.OpenApiMessage)
            assert isinstance(cls.PAYLOAD_TYPE, int)
        else:
            assert not issubclass(cls, models.OpenApiMessage)
            assert not hasattr(cls, "PAYLOAD_TYPE")


def test_removed_pnl_change_messages_keep_their_old_numbers_outside_the_registry() -> None:
    removed: dict[type[models.OpenApiMessage], int] = {
        models.V1PnLChangeEvent: 2189,
        models.V1PnLChangeSubscribeReq: 2190,
        models.V1PnLChangeSubscribeRes: 2191,
        models.V1PnLChangeUnSubscribeReq: 2192,
        models.V1PnLChangeUnSubscribeRes: 2193,
    }
    for cls, number in removed.items():
        assert number == cls.PAYLOAD_TYPE
        assert number not in models.MESSAGE_TYPES


# --- Struct options --------------------------------------------------------------------------


def _reaches_a_container(annotation: Any, seen: set[type]) -> bool:
    annotation, _ = _split_optional(annotation)
    if typing.get_origin(annotation) in (list, dict):
        return True
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation in seen:
            return False
        seen.add(annotation)
        hints = typing.get_type_hints(annotation)
        return any(_reaches_a_container(hints[f], seen) for f in annotation.__struct_fields__)
    return False


@pytest.mark.parametrize("cls", generated_structs(), ids=lambda c: c.__name__)
def test_structs_are_frozen_omit_defaults_and_untracked_only_when_acyclic(cls: Any) -> None:
    config = cls.__struct_config__
    assert config.frozen
    assert config.omit_defaults
    assert config.gc is _reaches_a_container(cls, set())
    instance = build(cls, full=True)
    assert gc.is_tracked(instance) is config.gc
    for name in cls.__struct_fields__[:1]:  # a message without fields has nothing to set
        with pytest.raises(AttributeError):
            setattr(instance, name, None)


# --- round trips from sample values ----------------------------------------------------------


def sample(annotation: Any, full: bool, depth: int = 0) -> Any:
    """A value of the annotated type: int64-sized ints, every enum's last member, nested Structs."""
    annotation, _ = _split_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return [sample(item, full, depth + 1) for _ in range(2)]
    if origin is dict:
        return {"nested": {"value": [1, "two", None]}}
    if isinstance(annotation, type) and issubclass(annotation, enum.IntEnum):
        return list(annotation)[-1]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return build(annotation, full, depth + 1)
    return {int: 2**62 + depth, float: 1.23456, bool: True, str: 'text \u00e9"\\'}[annotation]


def build(cls: Any, full: bool, depth: int = 0) -> Any:
    """An instance with every field set (full) or only the required ones."""
    hints = typing.get_type_hints(cls)
    values = {
        f.name: sample(hints[f.name], full, depth)
        for f in msgspec.structs.fields(cls)
        if full or f.required
    }
    return cls(**values)


def every_struct() -> list[Any]:
    return [pytest.param(model_class(t), id=t.proto_name) for t in MESSAGE_TABLES]


@pytest.mark.parametrize("full", [True, False], ids=["all-fields", "required-only"])
@pytest.mark.parametrize("cls", every_struct())
def test_a_struct_encodes_to_json_that_decodes_back_equal(cls: Any, full: bool) -> None:
    message = build(cls, full)
    encoded = msgspec.json.encode(message)
    assert msgspec.json.decode(encoded, type=cls) == message
    assert msgspec.json.decode(encoded, type=cls, strict=False) == message
    wire_names = {f.encode_name for f in msgspec.structs.fields(cls) if full or f.required}
    assert set(msgspec.json.decode(encoded)) == wire_names  # absent optionals are left out
    assert msgspec.convert(msgspec.to_builtins(message), type=cls) == message


def test_missing_required_field_and_wrong_type_are_refused_by_decoding() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"missing required field `symbolId`"):
        msgspec.json.decode(b'{"ctidTraderAccountId": 1}', type=models.SpotEvent)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.orderType"):
        msgspec.json.decode(
            b'{"ctidTraderAccountId":1,"symbolId":1,"orderType":"x","tradeSide":1,"volume":1}',
            type=models.NewOrderReq,
        )


def test_int64_sent_as_numeric_strings_decode_as_numbers_only_when_not_strict() -> None:
    payload = (
        b'{"ctidTraderAccountId":"9007199254740993","symbolId":"1","bid":"110012",'
        b'"timestamp":1700000000000,"trendbar":[{"volume":"3","low":"-5","period":1}]}'
    )
    spot = msgspec.json.decode(payload, type=models.SpotEvent, strict=False)
    assert spot.ctid_trader_account_id == 9007199254740993  # beyond a double, kept exact
    assert (spot.symbol_id, spot.bid, spot.ask) == (1, 110012, None)
    assert spot.trendbar == [models.Trendbar(volume=3, low=-5, period=models.TrendbarPeriod.M1)]
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `str`"):
        msgspec.json.decode(payload, type=models.SpotEvent)
    # strict=False converts numeric text only: a fraction stays refused
    with pytest.raises(msgspec.ValidationError, match=r"\$\.symbolId"):
        msgspec.json.decode(
            b'{"ctidTraderAccountId":1,"symbolId":"1.5"}', type=models.SpotEvent, strict=False
        )


def test_unknown_fields_are_ignored_so_a_new_server_field_does_not_break_decoding() -> None:
    decoded = msgspec.json.decode(
        b'{"ctidTraderAccountId":1,"symbolId":2,"brandNewField":[1]}', type=models.SpotEvent
    )
    assert decoded == models.SpotEvent(ctid_trader_account_id=1, symbol_id=2)


# --- the generator -----------------------------------------------------------------------------


def test_regenerating_gives_the_checked_in_module() -> None:
    expected = generator.generate(DATA.read_text(encoding="utf-8"))
    assert Path(models.__file__).read_text(encoding="utf-8") == expected


def test_check_mode_reports_a_stale_module_and_writing_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "models.py"
    output.write_text("# stale\n", encoding="utf-8")
    monkeypatch.setattr(generator, "OUTPUT", output)
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    assert generator.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
    assert output.read_text(encoding="utf-8") == Path(models.__file__).read_text(encoding="utf-8")


def test_the_generator_refuses_a_name_clash_its_rule_does_not_resolve() -> None:
    text = DATA.read_text(encoding="utf-8")
    clash = "\n### B.9 `OpenApiMessages.proto`\n\n#### `ProtoSymbol`\n\n"
    clash += "| # | Label | Type | Field | Default/opts | Comment (verbatim) |\n"
    clash += "|---:|---|---|---|---|---|\n| 1 | required | `int64` | `id` |  |  |\n"
    with pytest.raises(ValueError, match="both become Symbol"):
        generator.generate(text + clash)
