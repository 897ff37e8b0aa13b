"""Writes core/ctrader/models.py from the cTrader Open API tables.

The input is tests/core/ctrader/data/openapi-proto-tables.md: the field table of every message
and the value table of every enum, copied verbatim from Spotware's .proto files. The output is
one module of msgspec Structs and IntEnums.

    python -m tests.codegen.ctrader_models            # rewrite the module
    python -m tests.codegen.ctrader_models --check    # exit 1 if it is not what this writes

Naming rule: a class is its .proto name without the ``ProtoOA`` or ``Proto`` prefix, first
letter upper case (``ProtoOAv1PnLChangeEvent`` -> ``V1PnLChangeEvent``). When a name of the
common files (``OpenApiCommon*.proto``) would equal one of the Open API files, the common one
is prefixed ``Common``: ``ProtoOAErrorRes`` -> ``ErrorRes`` and ``ProtoErrorRes`` ->
``CommonErrorRes``; likewise ``CommonErrorCode`` and ``CommonPayloadType``. Attributes are the
wire names in snake_case; the wire name is kept with ``msgspec.field(name=...)``.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLES = ROOT / "tests" / "core" / "ctrader" / "data" / "openapi-proto-tables.md"
OUTPUT = ROOT / "core" / "ctrader" / "models.py"
COMMAND = "python -m tests.codegen.ctrader_models"
LINE_LENGTH = 100

SCALARS = {
    "int32": "int",
    "int64": "int",
    "uint32": "int",
    "uint64": "int",
    "sint32": "int",
    "sint64": "int",
    "fixed32": "int",
    "fixed64": "int",
    "double": "float",
    "float": "float",
    "bool": "bool",
    "string": "str",
}
MESSAGE_FILES = ("OpenApiMessages.proto", "OpenApiCommonMessages.proto")
MODEL_FILE = "OpenApiModelMessages.proto"
ENUM_FILES = ("OpenApiModelMessages.proto", "OpenApiCommonModelMessages.proto")
PAYLOAD_ENUMS = ("ProtoOAPayloadType", "ProtoPayloadType")
ENVELOPE = "ProtoMessage"

# Hand-written unit helpers (core/ctrader/_model_units.py) mixed into some classes.
UNIT_MIXINS: dict[str, tuple[str, ...]] = {
    "Trendbar": ("TrendbarPrices",),
    "SpotEvent": ("SpotPrices",),
    "DepthQuote": ("DepthQuotePrices",),
    "GetTickDataRes": ("TickDataDeltas",),
}
MONEY_MIXIN = "MoneyDigits"  # every class with a moneyDigits field
VOLUME_MIXIN = "VolumeInCents"  # every class with a volume field in cents


@dataclass(frozen=True)
class FieldDef:
    number: int
    label: str  # required, optional or repeated
    type: str
    wire_name: str
    options: str
    comment: str


@dataclass
class MessageDef:
    proto_name: str
    file: str
    doc: str
    fields: list[FieldDef] = field(default_factory=list)


@dataclass
class EnumDef:
    proto_name: str
    file: str
    doc: str
    members: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PayloadRow:
    value: int
    enum_name: str
    message: str
    removed: bool


@dataclass
class Tables:
    messages: dict[str, MessageDef] = field(default_factory=dict)
    enums: dict[str, EnumDef] = field(default_factory=dict)
    payload_rows: list[PayloadRow] = field(default_factory=list)


_FILE_HEADING = re.compile(r"^###? .*`(\w+\.proto)`")
_DEFINITION = re.compile(r"^#### `(\w+)`\s*$")
_FIELD_ROW = re.compile(
    r"^\| (\d+) \| (required|optional|repeated) \| `(\w+)` \| `(\w+)` \| ([^|]*) \| (.*) \|$"
)
_ENUM_ROW = re.compile(r"^\| `(\w+)` \| (-?\d+) \| (.*) \|$")
_IN_CENTS = re.compile(r"cents|0\.01 of a unit")
_PAYLOAD_ROW = re.compile(r"^\| \(?(\d+)\)? \| `(\w+)`[^|]* \| [^|]* \| `(\w+)` \|")


def parse_tables(text: str) -> Tables:
    """Every message, enum and payload-type row of the tables, in the order they appear."""
    tables = Tables()
    current_file = ""
    current: MessageDef | EnumDef | None = None
    for line in text.splitlines():
        if heading := _FILE_HEADING.match(line):
            current_file, current = heading.group(1), None
        elif line.startswith("### "):
            current_file, current = "", None
        elif definition := _DEFINITION.match(line):
            current = MessageDef(definition.group(1), current_file, "")
        elif current is not None and line.startswith("_") and line.rstrip().endswith("_"):
            current.doc = line.strip()[1:-1].strip()
        elif isinstance(current, MessageDef) and line.startswith("| # | Label"):
            tables.messages[current.proto_name] = current
        elif current is not None and line.startswith("| Name | Value"):
            current = EnumDef(current.proto_name, current.file, current.doc)
            tables.enums[current.proto_name] = current
        elif (row := _FIELD_ROW.match(line)) and isinstance(current, MessageDef):
            number, label, type_, wire, options, comment = row.groups()
            current.fields.append(
                FieldDef(int(number), label, type_, wire, options.strip(), comment.strip())
            )
        elif (row := _ENUM_ROW.match(line)) and isinstance(current, EnumDef):
            current.members.append((row.group(1), int(row.group(2)), row.group(3).strip()))
        elif row := _PAYLOAD_ROW.match(line):
            value, enum_name, message = row.groups()
            tables.payload_rows.append(
                PayloadRow(int(value), enum_name, message, "(removed)" in line)
            )
    return tables


def strip_prefix(proto_name: str) -> str:
    for prefix in ("ProtoOA", "Proto"):
        if proto_name.startswith(prefix) and len(proto_name) > len(prefix):
            rest = proto_name[len(prefix) :]
            return rest[0].upper() + rest[1:]
    raise ValueError(f"{proto_name} has no Proto prefix")


def class_names(tables: Tables) -> dict[str, str]:
    """The Python name of every message and enum; raises on a clash the rule leaves."""
    definitions: list[tuple[str, str]] = [(m.proto_name, m.file) for m in tables.messages.values()]
    definitions += [(e.proto_name, e.file) for e in tables.enums.values()]
    open_api_names = {strip_prefix(p) for p, f in definitions if "Common" not in f}
    names: dict[str, str] = {}
    for proto_name, file in definitions:
        name = strip_prefix(proto_name)
        if "Common" in file and name in open_api_names:
            name = "Common" + name
        names[proto_name] = name
    taken: dict[str, str] = {}
    for proto_name, name in names.items():
        if name in taken:
            raise ValueError(f"{proto_name} and {taken[name]} both become {name}")
        taken[name] = proto_name
    return names


def snake_case(wire_name: str) -> str:
    """ctidTraderAccountId -> ctid_trader_account_id; skipSWAPPeriods -> skip_swap_periods."""
    name = wire_name.replace("PnL", "Pnl")
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return name.lower()


def _wrap(text: str, indent: int, first: str = "", rest: str = "") -> list[str]:
    pad = " " * indent
    return textwrap.wrap(
        text,
        width=LINE_LENGTH,
        initial_indent=pad + first,
        subsequent_indent=pad + rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _docstring(paragraphs: Sequence[str | list[str]], indent: int = 4) -> list[str]:
    """A docstring of wrapped paragraphs; a list paragraph is already-made lines."""
    pad = " " * indent
    lines: list[str] = []
    for i, paragraph in enumerate(paragraphs):
        if i:
            lines.append("")
        if isinstance(paragraph, str):
            lines += _wrap(_escape(paragraph), indent, "" if i else '"""')
        else:
            lines += paragraph
    if len(lines) == 1 and len(lines[0]) + 3 <= LINE_LENGTH:
        return [lines[0] + '"""']
    lines.append(pad + '"""')
    return lines


class Generator:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.names = class_names(tables)
        self.enum_values = {
            member: value
            for enum_name in PAYLOAD_ENUMS
            for member, value, _ in tables.enums[enum_name].members
        }
        self.removed = {row.message: row.value for row in tables.payload_rows if row.removed}
        self.listed = {row.message: row.value for row in tables.payload_rows if not row.removed}

    # --- what each definition becomes ------------------------------------------------------

    def payload_type(self, message: MessageDef) -> int | None:
        for f in message.fields:
            if f.wire_name == "payloadType" and f.type in PAYLOAD_ENUMS:
                default = re.fullmatch(r"\[default = (\w+)\]", f.options)
                if default is None:
                    raise ValueError(f"{message.proto_name}.payloadType has no default")
                if default.group(1) in self.enum_values:
                    value = self.enum_values[default.group(1)]
                    if self.listed.get(message.proto_name) != value:
                        raise ValueError(f"{message.proto_name}: section 3.2 disagrees")
                    return value
                return self.removed[message.proto_name]
        return None

    def body_fields(self, message: MessageDef) -> list[FieldDef]:
        if self.payload_type(message) is None:
            return list(message.fields)
        return [f for f in message.fields if f.wire_name != "payloadType"]

    def python_type(self, message: MessageDef, f: FieldDef) -> str:
        if message.proto_name == ENVELOPE and f.wire_name == "payload":
            return "dict[str, Any]"  # bytes in protobuf; an object in the JSON form
        if f.type in SCALARS:
            return SCALARS[f.type]
        return self.names[f.type]

    def holds_containers(self, proto_name: str, seen: frozenset[str] = frozenset()) -> bool:
        """True when instances can reach a list or dict, so could take part in a cycle."""
        message = self.tables.messages[proto_name]
        for f in self.body_fields(message):
            if f.label == "repeated" or self.python_type(message, f).startswith("dict"):
                return True
            nested = f.type in self.tables.messages and f.type not in seen
            if nested and self.holds_containers(f.type, seen | {proto_name}):
                return True
        return False

    def ordered_messages(self) -> list[MessageDef]:
        """Entities before the messages that embed them, otherwise in table order."""
        done: dict[str, MessageDef] = {}

        def visit(message: MessageDef) -> None:
            if message.proto_name in done:
                return
            for f in message.fields:
                if f.type in self.tables.messages and f.type != message.proto_name:
                    visit(self.tables.messages[f.type])
            done[message.proto_name] = message

        model = [m for m in self.tables.messages.values() if m.file == MODEL_FILE]
        rest = [m for m in self.tables.messages.values() if m.file != MODEL_FILE]
        for message in model + rest:
            visit(message)
        return list(done.values())

    # --- rendering ------------------------------------------------------------------------------

    def field_line(self, message: MessageDef, f: FieldDef) -> list[str]:
        attribute = snake_case(f.wire_name)
        type_ = self.python_type(message, f)
        arguments: list[str] = []
        if f.label == "repeated":
            annotation = f"list[{type_}]"
            arguments.append("default_factory=list")
        elif f.label == "optional":
            annotation = f"{type_} | None"
            arguments.append("default=None")
        else:
            annotation = type_
        if attribute != f.wire_name:
            arguments.append(f'name="{f.wire_name}"')
        head = f"    {attribute}: {annotation}"
        if not arguments:
            return [head]
        if arguments == ["default=None"]:
            return [head + " = None"]
        call = ", ".join(arguments)
        one_line = f"{head} = msgspec.field({call})"
        if len(one_line) <= LINE_LENGTH:
            return [one_line]
        if len(f"{head} = msgspec.field(") > LINE_LENGTH:
            return [f"{head} = (", f"        msgspec.field({call})", "    )"]
        if len(f"        {call}") <= LINE_LENGTH:
            return [f"{head} = msgspec.field(", f"        {call}", "    )"]
        return [f"{head} = msgspec.field(", *(f"        {a}," for a in arguments), "    )"]

    def attribute_doc(self, message: MessageDef, f: FieldDef) -> list[str]:
        text = f.comment or f"``{f.wire_name}``."
        if not text.endswith((".", "!", "?", ")")):
            text += "."
        default = re.search(r"default = (\S+?)\]", f.options)
        if default and f.label == "optional":
            text += f" Absent means {default.group(1)}."
        if "deprecated = true" in f.options:
            text += " Deprecated."
        return _wrap(_escape(text), 8, f"{snake_case(f.wire_name)}: ", "    ")

    def mixins(self, message: MessageDef, name: str) -> tuple[str, ...]:
        wires = {f.wire_name for f in self.body_fields(message)}
        extra = UNIT_MIXINS.get(name, ())
        if "moneyDigits" in wires:
            extra += (MONEY_MIXIN,)
        if any(
            f.wire_name == "volume" and f.label != "repeated" and _IN_CENTS.search(f.comment)
            for f in message.fields
        ):
            extra += (VOLUME_MIXIN,)
        return extra

    def render_message(self, message: MessageDef) -> list[str]:
        name = self.names[message.proto_name]
        payload_type = self.payload_type(message)
        base = "OpenApiMessage" if payload_type is not None else "OpenApiModel"
        options = "frozen=True, kw_only=True"
        if not self.holds_containers(message.proto_name):
            options += ", gc=False"
        bases = ", ".join((base, *self.mixins(message, name), options))
        header = [f"class {name}({bases}):"]
        if len(header[0]) > LINE_LENGTH:
            header = [f"class {name}(", f"    {bases}", "):"]
        origin = f"``{message.proto_name}`` of {message.file}"
        origin += "." if payload_type is None else f", payload type {payload_type}."
        if message.proto_name in self.removed:
            origin += (
                " That payload type was removed from ProtoOAPayloadType upstream, so no current"
                " server sends it; the class is not in MESSAGE_TYPES."
            )
        paragraphs: list[str | list[str]] = [message.doc, origin] if message.doc else [origin]
        fields = self.body_fields(message)
        if fields:
            attributes = ["    Attributes:"]
            for f in fields:
                attributes += self.attribute_doc(message, f)
            paragraphs.append(attributes)
        lines = [*header, *_docstring(paragraphs), ""]
        if payload_type is not None:
            lines.append(f"    PAYLOAD_TYPE: ClassVar[int] = {payload_type}")
            if fields:
                lines.append("")
        for f in fields:
            lines += self.field_line(message, f)
        return lines

    def render_enum(self, enum: EnumDef) -> list[str]:
        name = self.names[enum.proto_name]
        origin = f"``{enum.proto_name}`` of {enum.file}."
        paragraphs = [enum.doc, origin] if enum.doc else [origin]
        lines = [f"class {name}(enum.IntEnum):", *_docstring(paragraphs), ""]
        for member, value, comment in enum.members:
            if comment:
                lines += _wrap(comment, 4, "#: ", "#: ")
            lines.append(f"    {member} = {value}")
        return lines

    def render(self) -> str:
        blocks: list[list[str]] = [HEADER.splitlines()]
        blocks += [self.render_enum(e) for e in self.tables.enums.values()]
        blocks.append(BASES.splitlines())
        messages = self.ordered_messages()
        blocks += [self.render_message(m) for m in messages]
        registry = ["MESSAGE_TYPES: dict[int, type[OpenApiMessage]] = {"]
        registered = sorted(
            (value, self.names[m.proto_name])
            for m in messages
            if (value := self.payload_type(m)) is not None and m.proto_name not in self.removed
        )
        registry += [f"    {value}: {name}," for value, name in registered]
        registry.append("}")
        registry.append('"""Payload type -> class, for each payload type current servers use."""')
        blocks.append(registry)
        body = "\n\n\n".join("\n".join(block) for block in blocks)
        return body + "\n"


HEADER = f'''\
# Generated by `{COMMAND}` from
# tests/core/ctrader/data/openapi-proto-tables.md. Do not edit by hand: change the generator or
# the tables, regenerate, and commit both.
"""Typed cTrader Open API messages: one msgspec Struct per message and entity, one IntEnum per enum.

Every message of OpenApiMessages.proto and OpenApiCommonMessages.proto and every entity of
OpenApiModelMessages.proto, from Spotware's openapi-proto-messages at 40b9b1d. A class is the
.proto name without its ``ProtoOA`` or ``Proto`` prefix (``ProtoOANewOrderReq`` ->
``NewOrderReq``); where a common-file name would equal an Open API one, the common one takes a
``Common`` prefix (``ProtoErrorRes`` -> ``CommonErrorRes``, ``ProtoOAErrorRes`` -> ``ErrorRes``).

Attributes are snake_case; JSON uses the .proto (wire) names. Required fields are required,
optional ones default to None and are left out of the JSON when None, repeated ones are lists.
A message's ``PAYLOAD_TYPE`` is the ``payloadType`` of the envelope that carries it (it is not
a field of the payload); ``MESSAGE_TYPES`` maps each payload type to its class. Decode with
``msgspec.json.decode(payload, type=SpotEvent, strict=False)``: ``strict=False`` accepts the
64-bit integers cTrader may send as numeric strings. Enum fields decode from numbers only; a
payload that names enum values (``"orderType": "MARKET"``) reads through ``messages.typed_payload``,
as the connection reads every message.
"""

import enum
from typing import Any, ClassVar

import msgspec

from ._model_units import (
    DepthQuotePrices,
    MoneyDigits,
    SpotPrices,
    TickDataDeltas,
    TrendbarPrices,
    VolumeInCents,
)'''

BASES = '''\
class OpenApiModel(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of every generated Struct: immutable, keyword-only, None fields left out of JSON."""


class OpenApiMessage(OpenApiModel, frozen=True, kw_only=True):
    """Base of the messages an envelope carries; PAYLOAD_TYPE is the envelope's payloadType."""

    PAYLOAD_TYPE: ClassVar[int]'''


def generate(tables_text: str) -> str:
    return Generator(parse_tables(tables_text)).render()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(None if argv is None else list(argv))
    source = generate(TABLES.read_text(encoding="utf-8"))
    if args.check:
        if OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == source:
            return 0
        print(f"{OUTPUT.relative_to(ROOT)} is out of date: run {COMMAND}", file=sys.stderr)
        return 1
    OUTPUT.write_text(source, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
