"""Writes ``core/tradovate/requests.py``: the bodies users send and the answers they get back.

Run through ``python -m tests.codegen.tradovate_models`` (which writes both modules, or checks
them with ``--check``). ``tradovate-requests.yaml`` beside the specifications names the
endpoints; each endpoint's request body and 200 answer schemas come from the ``paths`` of its
specification, and every schema they reach becomes a frozen Struct with the same rules as the
entities (snake_case attributes, camelCase wire names, required as the specification says, the
rest None and left out when encoded). Schemas the entity module already defines (``OrderStrategy``)
are imported from it, and an enum whose values equal an entity enum's is that enum (the order
type of ``PlaceOrder`` is ``OrderType``). The same file's ``overrides`` widen a type or drop a
requirement where Tradovate's published examples disagree with the specification.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tests.codegen import tradovate_models as entities
from tests.codegen.tradovate_models import DATA, ROOT, EnumSpec, Model, Schema

CONFIG = DATA / "tradovate-requests.yaml"
TARGET = ROOT / "core" / "tradovate" / "requests.py"


@dataclass(frozen=True)
class Endpoint:
    """One request: its endpoint as the client names it, and its body and answer schemas."""

    name: str
    request: str
    answer: str


def schema_of(content_holder: Schema) -> str:
    """The schema name a request body or an answer refers to."""
    reference = content_holder["content"]["application/json"]["schema"]["$ref"]
    return str(reference).rsplit("/", 1)[-1]


def add_schemas(into: dict[str, Schema], extra: Mapping[str, Schema]) -> None:
    """Another specification's schemas; one both define must be defined alike."""
    for name, definition in extra.items():
        if name in into and into[name] != definition:
            raise ValueError(f"the specifications define {name} differently")
        into.setdefault(name, definition)


def load_endpoints(config: Schema, schemas: dict[str, Schema]) -> tuple[Endpoint, ...]:
    """The configured endpoints; ``schemas`` (the services specification's, which the entities
    were read from) gains the schemas they use from the other specifications."""
    found: list[Endpoint] = []
    for file_name, paths in config["endpoints"].items():
        spec = entities.load_yaml(DATA / file_name)
        mine: list[Endpoint] = []
        for path in paths:
            operation = spec["paths"][path]["post"]
            request = schema_of(operation["requestBody"])
            answer = schema_of(operation["responses"]["200"])
            mine.append(Endpoint(path.lstrip("/").lower(), request, answer))
        if DATA / file_name != entities.SPEC:
            spec_schemas = spec["components"]["schemas"]
            roots = {e.request for e in mine} | {e.answer for e in mine}
            used = entities.referenced_structs(spec_schemas, roots)
            add_schemas(schemas, {name: spec_schemas[name] for name in used})
        found.extend(mine)
    return tuple(found)


def apply_overrides(schemas: dict[str, Schema], overrides: Mapping[str, Schema]) -> None:
    """Replace properties and drop requirements as the configuration says."""
    for name, override in overrides.items():
        schema = schemas[name] = copy.deepcopy(schemas[name])
        for prop, definition in override.get("properties", {}).items():
            if prop not in schema["properties"]:
                raise ValueError(f"the override names {name}.{prop}, which does not exist")
            schema["properties"][prop] = definition
        optional = set(override.get("optional", []))
        if optional - set(schema.get("required", [])):
            raise ValueError(f"the override frees fields {name} does not require")
        schema["required"] = [p for p in schema.get("required", []) if p not in optional]


def shared_enums(
    entity_enums: Iterable[EnumSpec], specs: Iterable[EnumSpec], names: Mapping[str, str]
) -> tuple[tuple[EnumSpec, ...], tuple[EnumSpec, ...]]:
    """Every enum the requests use, and those of them the entity module lacks (renamed as
    ``names`` says where the property's name alone would say too little)."""
    known = {spec.values: spec.name for spec in entity_enums}
    used: list[EnumSpec] = []
    new: list[EnumSpec] = []
    for spec in specs:
        name = known.get(spec.values)
        if name is None:
            name = names.get(spec.name, spec.name)
            new.append(EnumSpec(name, spec.values, spec.users))
        used.append(EnumSpec(name, spec.values, spec.users))
    return tuple(used), tuple(sorted(new, key=lambda spec: spec.name))


@dataclass(frozen=True)
class Requests:
    """Everything the request module is rendered from."""

    model: Model
    endpoints: tuple[Endpoint, ...]
    imported: tuple[str, ...]
    new_enums: tuple[EnumSpec, ...]

    def roles(self, name: str) -> list[str]:
        """What ``name`` is for, in words, for its docstring."""
        said = [f"The body of ``{e.name}``." for e in self.endpoints if e.request == name]
        answers = [f"``{e.name}``" for e in self.endpoints if e.answer == name]
        if answers:
            said.append(f"The answer to {entities.english_list(answers)}.")
        if said:
            return said
        users = [
            f"``{user}``"
            for user in self.model.structs
            if any(
                entities.ref_name(d) == name
                for d in self.model.schemas[user]["properties"].values()
            )
        ]
        return [f"Part of {entities.english_list(users)}."]


def build(entity_model: Model) -> Requests:
    """Read the configuration and the specifications, given the entity module's model."""
    config = entities.load_yaml(CONFIG)
    schemas = dict(entity_model.schemas)
    endpoints = load_endpoints(config, schemas)
    apply_overrides(schemas, config["overrides"])
    roots = {e.request for e in endpoints} | {e.answer for e in endpoints}
    reached = entities.referenced_structs(schemas, roots)
    imported = tuple(n for n in reached if n in entity_model.structs)
    structs = tuple(n for n in reached if n not in entity_model.structs)
    specs = entities.enum_specs(schemas, structs)
    used, new = shared_enums(entity_model.enums, specs, config["enumNames"])
    clashes = {spec.name for spec in new} & {*entity_model.structs, *structs}
    clashes |= {spec.name for spec in new} & {spec.name for spec in entity_model.enums}
    if clashes:
        raise ValueError(f"request enum names clash with the entities': {sorted(clashes)}")
    model = Model(schemas, (), structs, used)
    return Requests(model, endpoints, imported, new)


# Rendering ---------------------------------------------------------------------------------------


def holds_lists(model: Model, name: str) -> bool:
    """Whether a Struct has a list field (and so must stay tracked by the garbage collector)."""
    return any(d.get("type") == "array" for d in model.schemas[name]["properties"].values())


def render_struct(requests: Requests, name: str) -> list[str]:
    model = requests.model
    schema = model.schemas[name]
    options = entities.STRUCT_OPTIONS + ("" if holds_lists(model, name) else ", gc=False")
    about = " ".join([*requests.roles(name), schema.get("description", "")]).strip()
    lines = [
        *entities.class_header(name, f'{options}, rename="camel"'),
        *entities.docstring(about, "    "),
        "",
    ]
    required = set(schema.get("required", []))
    for prop in schema["properties"]:
        lines.extend(entities.render_field(model, name, prop, prop in required))
    return lines


def render_table(name: str, about: str, pairs: Iterable[tuple[str, str]]) -> list[str]:
    lines = [f"{name}: Final[Mapping[str, type[msgspec.Struct]]] = MappingProxyType(", "    {"]
    lines.extend(f'        "{endpoint}": {struct},' for endpoint, struct in pairs)
    return [*lines, "    }", ")", f'"""{about}"""']


MODULE_DOC = '''"""The bodies of the Tradovate requests users send, and their answers, as Structs.

Placing, modifying, cancelling and liquidating orders, order strategies, ``md/getChart`` and the
replay clock: each request body is a frozen Struct named as in Tradovate's specifications
(``PlaceOrder``, ``GetChart``), and so is its answer (``PlaceOrderResult``,
``ChartSubscriptionResult``). ``REQUEST_TYPES`` and ``ANSWER_TYPES`` map each endpoint (lower
case, as ``"order/placeorder"``) to them. Attributes are snake_case, the wire's names camelCase;
fields the specification does not require default to None and are left out when encoded. Enums
shared with the entities are the entity module's (``Action``, ``OrderType``, ``TimeInForce``).

An order strategy's ``params`` is a JSON document inside a string, as the server wants it:
``core.tradovate.strategy`` builds it from typed parts.
"""'''


def render(entity_model: Model) -> str:
    """The module's text."""
    requests = build(entity_model)
    model = requests.model
    names = [*model.structs, *(spec.name for spec in requests.new_enums)]
    names += ["ANSWER_TYPES", "REQUEST_TYPES"]
    imports = sorted({*requests.imported, *(s.name for s in model.enums)} - set(names))
    lines = [
        f"# Generated by `{entities.COMMAND}` from Tradovate's specifications.",
        "# Do not edit: change the generator or its data and run it again.",
        *MODULE_DOC.splitlines(),
        "",
        *(["import enum"] if requests.new_enums else []),
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "from typing import Final",
        "",
        "import msgspec",
        "",
        f"from .models import {', '.join(imports)}",
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in sorted(names, key=entities.sort_key)),
        "]",
    ]
    blocks = [entities.render_enum(spec) for spec in requests.new_enums]
    blocks += [render_struct(requests, name) for name in model.structs]
    bodies = [(e.name, e.request) for e in requests.endpoints]
    answers = [(e.name, e.answer) for e in requests.endpoints]
    blocks.append(render_table("REQUEST_TYPES", "The body Struct of each endpoint.", bodies))
    blocks.append(render_table("ANSWER_TYPES", "The Struct of each endpoint's answer.", answers))
    for block in blocks:
        lines += ["", "", *block]
    return "\n".join(lines) + "\n"
