"""Key schemas, projections and index definitions, and CreateTable's checks on them.

The messages are DynamoDB's, in the order DynamoDB checks: billing mode and throughput, the
table's KeySchema against AttributeDefinitions, local then global secondary indexes, and
finally AttributeDefinitions that no key uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes3.dynamodb.errors import invalid_parameters, validation

MAX_GSIS = 20
MAX_LSIS = 5


@dataclass(frozen=True)
class KeySchema:
    hash: str
    hash_type: str
    range: str | None = None
    range_type: str | None = None
    # derived once (every item operation asks)
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _typed: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", (self.hash,) if self.range is None else (self.hash, self.range))
        typed = [(self.hash, self.hash_type)]
        if self.range is not None and self.range_type is not None:
            typed.append((self.range, self.range_type))
        object.__setattr__(self, "_typed", tuple(typed))

    def typed(self) -> Iterable[tuple[str, str]]:
        return self._typed

    def wire(self) -> list[dict[str, str]]:
        out = [{"AttributeName": self.hash, "KeyType": "HASH"}]
        if self.range is not None:
            out.append({"AttributeName": self.range, "KeyType": "RANGE"})
        return out


@dataclass(frozen=True)
class Projection:
    type: str = "ALL"
    non_key: tuple[str, ...] = ()

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ProjectionType": self.type}
        if self.type == "INCLUDE":
            out["NonKeyAttributes"] = list(self.non_key)
        return out


@dataclass
class IndexSpec:
    name: str
    kind: str  # "GLOBAL" or "LOCAL"
    keys: KeySchema
    projection: Projection
    throughput: dict[str, int] | None = None


@dataclass
class TableSpec:
    keys: KeySchema
    attributes: dict[str, str]  # AttributeDefinitions, in the order given
    indexes: list[IndexSpec] = field(default_factory=list)
    billing_mode: str | None = None
    throughput: dict[str, int] | None = None


def _names(elements: list[dict[str, Any]]) -> list[str]:
    return [e.get("AttributeName", "") for e in elements]


def _joined(names: Iterable[str]) -> str:
    return "[" + ", ".join(names) + "]"


def check_key_elements(elements: list[dict[str, Any]], defined: Mapping[str, str],
                       table_level: bool) -> None:
    keys = _names(elements)
    if table_level and len(keys) > len(defined):
        raise validation("Invalid KeySchema: Some index key attribute have no definition")
    if any(k not in defined for k in keys):
        raise invalid_parameters("Some index key attributes are not defined in AttributeDefinitions. "
                                 f"Keys: {_joined(keys)}, AttributeDefinitions: {_joined(defined)}")
    if len(keys) == 2 and keys[0] == keys[1]:
        raise validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    if elements[0].get("KeyType") != "HASH":
        if sum(1 for e in elements if e.get("KeyType") == "HASH") > 1:
            raise validation("Too many hash keys specified.  All Dynamo DB tables must have exactly "
                             "one hash key")
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) > 1 and elements[1].get("KeyType") != "RANGE":
        raise validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def key_schema(elements: list[dict[str, Any]], defined: Mapping[str, str]) -> KeySchema:
    hash_name = elements[0]["AttributeName"]
    range_name = elements[1]["AttributeName"] if len(elements) > 1 else None
    return KeySchema(hash_name, defined[hash_name], range_name,
                     defined[range_name] if range_name else None)


def projection(spec: Mapping[str, Any], index_name: str) -> Projection:
    kind = spec.get("ProjectionType")
    non_key = spec.get("NonKeyAttributes")
    if kind is None:
        raise invalid_parameters("Unknown ProjectionType: null")
    if non_key is not None and kind != "INCLUDE":
        raise invalid_parameters(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == "INCLUDE" and not non_key:
        raise invalid_parameters("NonKeyAttributes must not be empty when ProjectionType is INCLUDE "
                                 f"for index: {index_name}")
    return Projection(kind, tuple(non_key or ()))


def check_throughput(billing_mode: str | None, throughput: Mapping[str, Any] | None) -> None:
    if billing_mode == "PAY_PER_REQUEST":
        if throughput:
            raise invalid_parameters("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                                     "when BillingMode is PAY_PER_REQUEST")
        return
    if not throughput or not throughput.get("ReadCapacityUnits") or not throughput.get("WriteCapacityUnits"):
        raise invalid_parameters("ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                                 "BillingMode is PROVISIONED")
    for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if throughput[name] > 1_000_000_000_000:
            raise validation(f"Given value {throughput[name]} for {name} is out of bounds")


def index_spec(raw: Mapping[str, Any], kind: str, defined: Mapping[str, str], table: KeySchema,
               billing_mode: str | None) -> IndexSpec:
    name = raw["IndexName"]
    elements = raw["KeySchema"]
    check_key_elements(elements, defined, table_level=False)
    keys = key_schema(elements, defined)
    if kind == "LOCAL":
        if keys.range is None:
            raise invalid_parameters(f"Index KeySchema does not have a range key for index: {name}")
        if keys.hash != table.hash:
            raise invalid_parameters("Index KeySchema does not have the same leading hash key as table "
                                     f"KeySchema for index: {name}. index hash key: {keys.hash}, "
                                     f"table hash key: {table.hash}")
    proj = projection(raw.get("Projection") or {}, name)
    throughput = raw.get("ProvisionedThroughput")
    if kind == "GLOBAL":
        if billing_mode == "PAY_PER_REQUEST" and throughput:
            raise invalid_parameters(f"ProvisionedThroughput should not be specified for index: {name} "
                                     "when BillingMode is PAY_PER_REQUEST")
        if billing_mode != "PAY_PER_REQUEST" and not throughput:
            raise invalid_parameters(f"ProvisionedThroughput must be specified for index: {name}")
    return IndexSpec(name, kind, keys, proj, dict(throughput) if throughput else None)


def table_spec(params: Mapping[str, Any]) -> TableSpec:
    """CreateTable's parameters, checked as DynamoDB checks them."""
    billing_mode = params.get("BillingMode")
    throughput = params.get("ProvisionedThroughput")
    check_throughput(billing_mode, throughput)
    # botocore's model no longer marks these two required; DynamoDB still needs them.
    missing = [member for member in ("attributeDefinitions", "keySchema")
               if params.get(member[0].upper() + member[1:]) is None]
    if missing:
        raise validation(f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected: "
                         + "; ".join(f"Value null at '{m}' failed to satisfy constraint: Member must "
                                     "not be null" for m in missing))
    defined: dict[str, str] = {}
    for definition in params["AttributeDefinitions"]:
        name = definition["AttributeName"]
        if name in defined:
            raise invalid_parameters(f"Duplicate AttributeName in AttributeDefinitions: {name}")
        defined[name] = definition["AttributeType"]
    elements = params["KeySchema"]
    check_key_elements(elements, defined, table_level=True)
    keys = key_schema(elements, defined)
    lsis = params.get("LocalSecondaryIndexes")
    gsis = params.get("GlobalSecondaryIndexes")
    if lsis is None and gsis is None and len(elements) != len(defined):
        raise invalid_parameters("Number of attributes in KeySchema does not exactly match number of "
                                 "attributes defined in AttributeDefinitions")
    indexes: list[IndexSpec] = []
    seen: set[str] = set()
    for kind, raws, limit in (("LOCAL", lsis, MAX_LSIS), ("GLOBAL", gsis, MAX_GSIS)):
        if raws is None:
            continue
        label = "LocalSecondaryIndexes" if kind == "LOCAL" else "GlobalSecondaryIndexes"
        if not raws:
            raise invalid_parameters(f"List of {label} is empty")
        if kind == "LOCAL" and keys.range is None:
            raise invalid_parameters("Table KeySchema does not have a range key, which is required when "
                                     "specifying a LocalSecondaryIndex")
        for raw in raws:
            spec = index_spec(raw, kind, defined, keys, billing_mode)
            if spec.name in seen:
                raise invalid_parameters(f"Duplicate index name: {spec.name}")
            seen.add(spec.name)
            indexes.append(spec)
        if len(raws) > limit:
            if kind == "LOCAL":
                raise invalid_parameters("Number of LocalSecondaryIndexes exceeds per-table limit of "
                                         f"{limit}")
            raise invalid_parameters(f"GlobalSecondaryIndex count exceeds the per-table limit of {limit}")
    used = list(dict.fromkeys([*keys.names, *(n for i in indexes for n in i.keys.names)]))
    if set(defined) - set(used):
        raise invalid_parameters(f"Some AttributeDefinitions are not used. AttributeDefinitions: "
                                 f"{_joined(defined)}, keys used: {_joined(used)}")
    return TableSpec(keys, defined, indexes, billing_mode, dict(throughput) if throughput else None)
