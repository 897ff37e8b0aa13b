"""The generated Tradovate entity Structs: round trips, agreement with the specification, and the
generator's output matching the checked-in module."""

from __future__ import annotations

import enum
import gc
import inspect
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from brokerwire.core.tradovate import models
from tests.codegen import tradovate_models as generator
from tests.codegen import tradovate_requests

DATA = Path(__file__).parent / "data"
STRUCTS: list[type[msgspec.Struct]] = [
    cls
    for _, cls in inspect.getmembers(models, inspect.isclass)
    if issubclass(cls, msgspec.Struct) and cls.__module__ == models.__name__
]
ENUMS: list[type[enum.StrEnum]] = [
    cls
    for _, cls in inspect.getmembers(models, inspect.isclass)
    if issubclass(cls, enum.StrEnum) and cls.__module__ == models.__name__
]
SCALAR_TYPES = {
    "integer": msgspec.inspect.IntType,
    "number": msgspec.inspect.FloatType,
    "boolean": msgspec.inspect.BoolType,
    "string": msgspec.inspect.StrType,
}


def load(name: str) -> Any:
    with (DATA / name).open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


SPEC_SCHEMAS: dict[str, Any] = load("tradovate-services.swagger.yaml")["components"]["schemas"]
SUPPLEMENT_SCHEMAS: dict[str, Any] = load("tradovate-entities-supplement.yaml")["schemas"]


def documented_properties(schema: str) -> dict[str, Any]:
    """The properties of ``schema`` in the specification and the supplement together."""
    found: dict[str, Any] = {}
    for source in (SPEC_SCHEMAS, SUPPLEMENT_SCHEMAS):
        found.update(source.get(schema, {}).get("properties", {}))
    return found


def documented_enum(schema: str, prop: str) -> set[str]:
    """Every value the specification or the supplement gives ``schema.prop``."""
    values: set[str] = set()
    for source in (SPEC_SCHEMAS, SUPPLEMENT_SCHEMAS):
        values.update(source.get(schema, {}).get("properties", {}).get(prop, {}).get("enum", []))
    return values


def unwrap_optional(kind: msgspec.inspect.Type) -> msgspec.inspect.Type:
    if isinstance(kind, msgspec.inspect.UnionType):
        (kind,) = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
    return kind


def sample(kind: msgspec.inspect.Type, seed: int, *, complete: bool) -> Any:
    """A value of ``kind`` that differs with ``seed`` (so swapped fields would show)."""
    kind = unwrap_optional(kind)
    if isinstance(kind, msgspec.inspect.BoolType):
        return seed % 2 == 0
    if isinstance(kind, msgspec.inspect.IntType):
        return 1_000_003 * seed + 7
    if isinstance(kind, msgspec.inspect.FloatType):
        return seed + 0.25
    if isinstance(kind, msgspec.inspect.StrType):
        return f"value {seed} \u00e9\u20ac"
    if isinstance(kind, msgspec.inspect.EnumType):
        members = list(kind.cls)
        return members[seed % len(members)]
    if isinstance(kind, msgspec.inspect.ListType):
        return [sample(kind.item_type, seed + i, complete=complete) for i in range(2)]
    if isinstance(kind, msgspec.inspect.StructType):
        return build(kind.cls, seed, complete=complete)
    raise AssertionError(f"no sample for {kind!r}")


def build(cls: type[msgspec.Struct], seed: int = 1, *, complete: bool = True) -> Any:
    """``cls`` with every field set (``complete``) or only its required fields."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    values = {
        field.name: sample(field.type, seed * 100 + index, complete=complete)
        for index, field in enumerate(info.fields)
        if complete or field.required
    }
    return cls(**values)


def struct_fields(cls: type[msgspec.Struct]) -> tuple[msgspec.inspect.Field, ...]:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    return info.fields


@pytest.mark.parametrize("complete", [True, False], ids=["every-field", "required-only"])
@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_every_struct_round_trips_through_json(cls: type[msgspec.Struct], complete: bool) -> None:
    original = build(cls, complete=complete)
    encoded = msgspec.json.encode(original)
    decoded = msgspec.json.decode(encoded, type=cls)
    assert decoded == original
    assert msgspec.json.encode(decoded) == encoded
    wire = msgspec.json.decode(encoded)
    required = {f.encode_name for f in struct_fields(cls) if f.required}
    assert set(wire) == ({f.encode_name for f in struct_fields(cls)} if complete else required)


def test_the_samples_cover_every_struct_the_module_defines() -> None:
    names = {cls.__name__ for cls in STRUCTS}
    assert set(models.ENTITY_TYPES.values()) | {models.TradeDate, models.SyncSnapshot} == set(
        STRUCTS
    )
    assert names <= set(models.__all__)


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_structs_are_frozen_keyword_only_and_omit_defaults(cls: type[msgspec.Struct]) -> None:
    config = cls.__struct_config__
    assert config.frozen
    assert config.omit_defaults
    instance = build(cls)
    first = struct_fields(cls)[0].name
    with pytest.raises(AttributeError):
        setattr(instance, first, getattr(instance, first))
    positional = [getattr(instance, f.name) for f in struct_fields(cls)]
    with pytest.raises(TypeError):
        cls(*positional)


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_only_structs_that_cannot_hold_a_cycle_skip_the_garbage_collector(
    cls: type[msgspec.Struct],
) -> None:
    holds_containers = any(
        isinstance(unwrap_optional(f.type), msgspec.inspect.ListType | msgspec.inspect.DictType)
        for f in struct_fields(cls)
    )
    assert cls.__struct_config__.gc is holds_containers
    assert gc.is_tracked(build(cls)) is holds_containers


ENTITY_SCHEMAS = sorted({cls.__name__ for cls in models.ENTITY_TYPES.values()} | {"TradeDate"})


@pytest.mark.parametrize("schema", ENTITY_SCHEMAS)
def test_fields_follow_the_specification(schema: str) -> None:
    """Wire names, required fields and types are the specification's (plus the supplement)."""
    cls = getattr(models, schema)
    properties = documented_properties(schema)
    fields = {f.encode_name: f for f in struct_fields(cls)}
    assert list(fields) == list(properties)
    required = set(SPEC_SCHEMAS.get(schema, SUPPLEMENT_SCHEMAS.get(schema, {})).get("required", []))
    assert {name for name, f in fields.items() if f.required} == required
    for name, definition in properties.items():
        field = fields[name]
        kind = unwrap_optional(field.type)
        if not field.required:
            assert field.default is None
        if "enum" in definition:
            assert isinstance(kind, msgspec.inspect.EnumType), name
        elif "$ref" in definition:
            assert isinstance(kind, msgspec.inspect.StructType), name
            assert kind.cls.__name__ == definition["$ref"].rsplit("/", 1)[-1]
        else:
            assert isinstance(kind, SCALAR_TYPES[definition["type"]]), name


def test_attributes_are_snake_case_of_the_wire_names() -> None:
    for cls in STRUCTS:
        for field in struct_fields(cls):
            assert field.name == field.name.lower(), field.name
            assert field.name.replace("_", "") == field.encode_name.lower(), field.encode_name


def enum_uses() -> list[tuple[str, str]]:
    return [
        (schema, prop)
        for schema in ENTITY_SCHEMAS
        for prop, definition in documented_properties(schema).items()
        if "enum" in definition
    ]


@pytest.mark.parametrize(("schema", "prop"), enum_uses(), ids=str)
def test_every_enum_holds_exactly_the_documented_values(schema: str, prop: str) -> None:
    (field,) = [f for f in struct_fields(getattr(models, schema)) if f.encode_name == prop]
    kind = unwrap_optional(field.type)
    assert isinstance(kind, msgspec.inspect.EnumType)
    assert {member.value for member in kind.cls} == documented_enum(schema, prop)


def test_every_generated_enum_is_used_and_compares_equal_to_its_wire_string() -> None:
    kinds = [unwrap_optional(f.type) for cls in STRUCTS for f in struct_fields(cls)]
    used = {kind.cls for kind in kinds if isinstance(kind, msgspec.inspect.EnumType)}
    assert used == set(ENUMS)
    assert isinstance(models.OrdStatus.PENDING_NEW, str)
    assert msgspec.json.encode(models.OrdStatus.PENDING_NEW) == b'"PendingNew"'
    assert models.Action("Sell") is models.Action.SELL


def test_the_snapshot_holds_every_array_of_the_sync_answer() -> None:
    documented = documented_properties("SyncMessage")
    fields = {f.encode_name: f for f in struct_fields(models.SyncSnapshot)}
    assert list(fields) == list(documented)
    for name, definition in documented.items():
        kind = fields[name].type
        assert isinstance(kind, msgspec.inspect.ListType)
        assert isinstance(kind.item_type, msgspec.inspect.StructType)
        assert kind.item_type.cls.__name__ == definition["items"]["$ref"].rsplit("/", 1)[-1]
        assert not fields[name].required


def test_entity_types_map_each_props_name_to_its_struct() -> None:
    for name, cls in models.ENTITY_TYPES.items():
        assert name == cls.__name__[0].lower() + cls.__name__[1:]
    with pytest.raises(TypeError):
        models.ENTITY_TYPES["order"] = models.Fill  # type: ignore[index]


def test_the_generator_reproduces_the_checked_in_module() -> None:
    expected = generator.render(generator.build_model())
    assert generator.TARGET.read_text(encoding="utf-8") == expected
    assert generator.main(["--check"]) == 0


def test_the_check_fails_when_the_module_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "models.py"
    stale.write_text(generator.TARGET.read_text(encoding="utf-8") + "# edited\n")
    requests_copy = tmp_path / "requests.py"
    requests_copy.write_text(tradovate_requests.TARGET.read_text(encoding="utf-8"))
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    monkeypatch.setattr(generator, "TARGET", stale)
    monkeypatch.setattr(tradovate_requests, "TARGET", requests_copy)
    assert generator.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
