"""Writes ``core/tradovate/models.py``: msgspec Structs for Tradovate's entities.

It also writes ``core/tradovate/requests.py``, the bodies and answers of the requests users
send (``tradovate_requests`` says how).

The source is Tradovate's services specification, kept verbatim in
``tests/core/tradovate/data/tradovate-services.swagger.yaml``, plus the few entities and fields
Tradovate's documentation shows but the specification lacks
(``tradovate-entities-supplement.yaml`` beside it)::

    python -m tests.codegen.tradovate_models            # rewrite the module
    python -m tests.codegen.tradovate_models --check    # exit 1 if the module is out of date

Rules: every entity type the ``user/syncrequest`` answer holds or ``props`` events carry becomes
a frozen Struct named as the schema (``Order``, ``CashBalance``), attributes snake_case with the
wire's camelCase names kept by ``rename``; the schema's ``required`` fields are required, every
other field defaults to None. int32/int64 give ``int``, double ``float``, boolean ``bool``,
date-time and other strings ``str``, a ``$ref`` the referenced Struct. String enums become
``enum.StrEnum`` classes named after their property (``OrdStatus``), or after schema and property
where one property name carries different values in different schemas (``UserStatus``).
"""

from __future__ import annotations

import argparse
import html
import keyword
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "core" / "tradovate" / "data"
SPEC = DATA / "tradovate-services.swagger.yaml"
SUPPLEMENT = DATA / "tradovate-entities-supplement.yaml"
TARGET = ROOT / "core" / "tradovate" / "models.py"
COMMAND = "python -m tests.codegen.tradovate_models"

SNAPSHOT_SCHEMA = "SyncMessage"
SNAPSHOT_CLASS = "SyncSnapshot"
LINE = 100
STRUCT_OPTIONS = "frozen=True, kw_only=True, omit_defaults=True"
SCALARS = {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}

Schema = dict[str, Any]


@dataclass(frozen=True)
class EnumSpec:
    """One generated string enum: its values and the schema properties that use it."""

    name: str
    values: tuple[str, ...]
    users: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Model:
    """Everything the module is rendered from."""

    schemas: dict[str, Schema]
    entities: tuple[str, ...]
    structs: tuple[str, ...]
    enums: tuple[EnumSpec, ...]

    def enum_of(self, schema: str, prop: str) -> str:
        """The enum class used by ``schema.prop``."""
        for spec in self.enums:
            if (schema, prop) in spec.users:
                return spec.name
        raise KeyError((schema, prop))


def load_yaml(path: Path) -> Any:
    """``path`` parsed, with libyaml when it is there (the specification is 12,000 lines)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader either way


def merge_property(name: str, prop: str, into: Schema, extra: Schema) -> None:
    """Add a supplement property to a specification schema, or the enum values it lacks."""
    if prop not in into["properties"]:
        into["properties"][prop] = extra
        return
    known = into["properties"][prop]
    if "enum" not in known or "enum" not in extra:
        raise ValueError(f"the supplement redefines {name}.{prop}")
    known["enum"] = [*known["enum"], *(v for v in extra["enum"] if v not in known["enum"])]


def merged_schemas(spec: Schema, supplement: Schema) -> dict[str, Schema]:
    """The specification's schemas with the supplement's added."""
    schemas: dict[str, Schema] = spec["components"]["schemas"]
    for name, extra in supplement["schemas"].items():
        if name not in schemas:
            schemas[name] = extra
            continue
        for prop, definition in extra["properties"].items():
            merge_property(name, prop, schemas[name], definition)
    return schemas


def ref_name(definition: Schema) -> str | None:
    """The schema a property (or its array items) refers to, if any."""
    ref = definition.get("$ref") or definition.get("items", {}).get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def entity_schemas(schemas: Mapping[str, Schema], props_only: Iterable[str]) -> tuple[str, ...]:
    """The item schemas of the sync answer's arrays, and the types only ``props`` carries."""
    names = {ref_name(p) for p in schemas[SNAPSHOT_SCHEMA]["properties"].values()}
    names.update(props_only)
    return tuple(sorted(n for n in names if n))


def referenced_structs(schemas: Mapping[str, Schema], roots: Iterable[str]) -> tuple[str, ...]:
    """``roots`` and every schema they reach through ``$ref``, each after the ones it uses."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for definition in schemas[name]["properties"].values():
            if (reference := ref_name(definition)) and reference != name:
                visit(reference)
        ordered.append(name)

    for root in sorted(roots):
        visit(root)
    return tuple(ordered)


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def enum_specs(schemas: Mapping[str, Schema], structs: Iterable[str]) -> tuple[EnumSpec, ...]:
    """One enum per property name, or per schema and property where the values differ."""
    by_prop: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for schema in structs:
        for prop, definition in schemas[schema]["properties"].items():
            if "enum" in definition:
                by_prop.setdefault(prop, []).append((schema, tuple(definition["enum"])))
    specs: list[EnumSpec] = []
    for prop, uses in by_prop.items():
        if len({values for _, values in uses}) == 1 and pascal(prop) not in structs:
            users = tuple(sorted((schema, prop) for schema, _ in uses))
            specs.append(EnumSpec(pascal(prop), uses[0][1], users))
            continue
        for schema, values in uses:
            specs.append(EnumSpec(schema + pascal(prop), values, ((schema, prop),)))
    names = [spec.name for spec in specs]
    clashes = {n for n in names if names.count(n) > 1} | (set(names) & set(structs))
    if clashes:
        raise ValueError(f"enum names clash: {sorted(clashes)}")
    return tuple(sorted(specs, key=lambda spec: spec.name))


def build_model() -> Model:
    """Read the specification and the supplement."""
    supplement = load_yaml(SUPPLEMENT)
    schemas = merged_schemas(load_yaml(SPEC), supplement)
    entities = entity_schemas(schemas, supplement["propsOnlyEntities"])
    structs = referenced_structs(schemas, entities)
    return Model(schemas, entities, structs, enum_specs(schemas, structs))


# Rendering ---------------------------------------------------------------------------------------


def snake(name: str) -> str:
    """``accountId`` -> ``account_id``; a Python keyword gets a trailing underscore."""
    words = name.replace("PnL", "Pnl")  # "realizedPnL" reads as realized_pnl
    attribute = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", words).lower()
    return attribute + "_" if keyword.iskeyword(attribute) else attribute


def camel_of(attribute: str) -> str:
    """The wire name msgspec's ``rename="camel"`` gives ``attribute``."""
    probe = msgspec.defstruct("Probe", [(attribute, int)], rename="camel")
    return str(probe.__struct_encode_fields__[0])


def member_name(value: str) -> str:
    """``PendingNew`` -> ``PENDING_NEW``."""
    name = re.sub(r"\W", "_", snake(value).rstrip("_")).upper()
    return "V_" + name if name[:1].isdigit() else name


def docstring(text: str, indent: str) -> list[str]:
    """A docstring's lines, wrapped to the line length."""
    text = html.unescape(" ".join(text.split())).replace("\\", "\\\\").replace('"""', '\\"""')
    if text.endswith('"'):
        text += " "
    single = f'{indent}"""{text}"""'
    if len(single) <= LINE:
        return [single]
    lines = textwrap.wrap(text, LINE - len(indent) - 3, break_on_hyphens=False)
    lines[0] = '"""' + lines[0]
    lines[-1] += '"""'
    return [indent + line for line in lines]


def english_list(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def render_enum(spec: EnumSpec) -> list[str]:
    props = sorted({prop for _, prop in spec.users})
    owners = english_list(sorted({schema for schema, _ in spec.users}))
    about = f"Values of ``{'``, ``'.join(props)}`` in {owners}."
    lines = [f"class {spec.name}(enum.StrEnum):", *docstring(about, "    "), ""]
    members = [member_name(value) for value in spec.values]
    if len(set(members)) != len(members):
        raise ValueError(f"enum {spec.name} has members that clash: {members}")
    pairs = zip(members, spec.values, strict=True)
    lines.extend(f'    {member} = "{value}"' for member, value in pairs)
    return lines


def field_type(model: Model, schema: str, prop: str, definition: Schema) -> str:
    """The Python type of one property."""
    if "enum" in definition:
        return model.enum_of(schema, prop)
    if "anyOf" in definition:
        return " | ".join(SCALARS[choice["type"]] for choice in definition["anyOf"])
    reference = ref_name(definition)
    if definition.get("type") == "array":
        return f"list[{reference or SCALARS[definition['items']['type']]}]"
    if reference:
        return reference
    return SCALARS[definition["type"]]


def render_field(model: Model, schema: str, prop: str, required: bool) -> list[str]:
    definition = model.schemas[schema]["properties"][prop]
    annotation = field_type(model, schema, prop, definition)
    attribute = snake(prop)
    renamed = camel_of(attribute) != prop
    if required:
        default = f' = msgspec.field(name="{prop}")' if renamed else ""
    else:
        annotation += " | None"
        default = f' = msgspec.field(default=None, name="{prop}")' if renamed else " = None"
    lines = [f"    {attribute}: {annotation}{default}"]
    description = definition.get("description", "")
    if description and description != ", ".join(definition.get("enum", [])):
        lines.extend(docstring(description, "    "))
    return lines


def class_header(name: str, options: str) -> list[str]:
    header = f"class {name}(msgspec.Struct, {options}):"
    if len(header) <= LINE:
        return [header]
    return [f"class {name}(", f"    msgspec.Struct, {options}", "):"]


def struct_doc(model: Model, name: str) -> str:
    schema = model.schemas[name]
    if name in model.entities:
        about = f"Tradovate's ``{name[:1].lower() + name[1:]}`` entity."
    else:
        about = f"Tradovate's ``{name}``, part of other entities."
    if schema.get("description"):
        about += " " + schema["description"]
    return about


def render_struct(model: Model, name: str) -> list[str]:
    schema = model.schemas[name]
    options = f'{STRUCT_OPTIONS}, gc=False, rename="camel"'
    lines = [*class_header(name, options), *docstring(struct_doc(model, name), "    "), ""]
    required = set(schema.get("required", []))
    for prop in schema["properties"]:
        lines.extend(render_field(model, name, prop, prop in required))
    return lines


def render_snapshot(model: Model) -> list[str]:
    about = (
        "The answer to ``user/syncrequest``: every array of entities it holds, each empty when "
        "absent. It holds lists, so unlike the entities it stays tracked by the cyclic garbage "
        "collector."
    )
    lines = [
        *class_header(SNAPSHOT_CLASS, f'{STRUCT_OPTIONS}, rename="camel"'),
        *docstring(about, "    "),
        "",
    ]
    for prop, definition in model.schemas[SNAPSHOT_SCHEMA]["properties"].items():
        attribute = snake(prop)
        name = f', name="{prop}"' if camel_of(attribute) != prop else ""
        annotation = f"list[{ref_name(definition)}]"
        lines.append(f"    {attribute}: {annotation} = msgspec.field(default_factory=list{name})")
    return lines


def render_entity_table(model: Model) -> list[str]:
    lines = ["Entity: TypeAlias = ("]
    lines.extend(f"    {'| ' if i else ''}{name}" for i, name in enumerate(model.entities))
    lines += [")", '"""Any entity a ``props`` event carries."""', ""]
    lines += ["ENTITY_TYPES: Final[Mapping[str, type[Entity]]] = MappingProxyType(", "    {"]
    lines.extend(f'        "{name[:1].lower() + name[1:]}": {name},' for name in model.entities)
    lines += ["    }", ")", '"""The Struct for each ``entityType`` of ``props`` events."""']
    return lines


def sort_key(name: str) -> tuple[int, str]:
    """The order ruff keeps ``__all__`` in: constants, classes, then the rest."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


MODULE_DOC = '''"""Tradovate's entities as msgspec Structs, from Tradovate's services specification.

Each entity type the ``user/syncrequest`` answer holds or ``props`` events carry is a frozen
Struct named as in the specification (``Order``, ``CashBalance``); ``ENTITY_TYPES`` maps a
``props`` event's ``entityType`` (``"order"``, ``"cashBalance"``) to its Struct and
``SyncSnapshot`` holds the ``user/syncrequest`` answer. Attributes are snake_case; encoding
(``msgspec.json.encode``, ``msgspec.to_builtins``) writes the wire's camelCase names. Fields the
specification marks required are required, every other field defaults to None and is left out
when encoded. Enumerations are ``enum.StrEnum`` classes: a member compares equal to its wire
string, and a value outside the enumeration fails validation.

Timestamps stay the strings Tradovate sends ("2016-11-04T00:02:36.626Z"): decoding them as
datetimes would re-encode as "2016-11-04T00:02:36.626000Z" and drop digits past microseconds, so
the wire form would not survive a round trip. ``datetime.fromisoformat`` reads them when needed.
Numbers are not range-checked and strings not length-checked: the server's data is taken as sent.
"""'''


def render(model: Model) -> str:
    """The module's text."""
    names = [*model.structs, *(spec.name for spec in model.enums), SNAPSHOT_CLASS]
    names += ["ENTITY_TYPES", "Entity"]
    lines = [
        f"# Generated by `{COMMAND}` from Tradovate's services specification.",
        "# Do not edit: change the generator or its data and run it again.",
        *MODULE_DOC.splitlines(),
        "",
        "import enum",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "from typing import Final, TypeAlias",
        "",
        "import msgspec",
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in sorted(names, key=sort_key)),
        "]",
    ]
    blocks = [render_enum(spec) for spec in model.enums]
    blocks += [render_struct(model, name) for name in model.structs]
    blocks += [render_snapshot(model), render_entity_table(model)]
    for block in blocks:
        lines += ["", "", *block]
    return "\n".join(lines) + "\n"


def outputs() -> dict[Path, str]:
    """Each generated module and its text: the entities, then the requests that use them."""
    from tests.codegen import tradovate_requests

    model = build_model()
    return {TARGET: render(model), tradovate_requests.TARGET: tradovate_requests.render(model)}


def main(argv: list[str] | None = None) -> int:
    about = "Write Tradovate's entity and request models from Tradovate's specifications."
    parser = argparse.ArgumentParser(prog=COMMAND, description=about)
    parser.add_argument("--check", action="store_true", help="exit 1 if a module is stale")
    args = parser.parse_args(argv)
    stale = 0
    for target, text in outputs().items():
        if not args.check:
            target.write_text(text, encoding="utf-8")
        elif (target.read_text(encoding="utf-8") if target.exists() else "") != text:
            print(f"{target.relative_to(ROOT)} is out of date: run {COMMAND}", file=sys.stderr)
            stale = 1
    return stale


if __name__ == "__main__":
    sys.exit(main())
