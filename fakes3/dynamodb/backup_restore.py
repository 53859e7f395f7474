"""RestoreTableFromBackup: a new table with a backup's schema and exactly its items.

The restored table keeps what the backup recorded of the data's shape — key schema, attribute
definitions, local and global secondary indexes, billing mode, provisioned throughput, encryption
(SSE), table class — and, as DynamoDB documents (API reference, RestoreTableFromBackup), not the
source's tags, stream settings, TTL, auto scaling or point-in-time recovery; deletion protection
is off. The overrides replace the billing mode, the throughput, the encryption, and choose which
of the backup's indexes to build (GlobalSecondaryIndexOverride / LocalSecondaryIndexOverride: a
subset of the backup's indexes, by name, each with the backup's key schema).

The new table is checked as CreateTable checks one (schema.table_spec), goes through the same
CREATING delay, and is built — items, indexes, data-dir rows — before it is published, so nobody
sees it half restored.
"""

from __future__ import annotations

from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb.backup_snapshot import Backup, backup_in_use, backup_not_found
from fakes3.dynamodb.errors import DynamoDBError, invalid_parameters
from fakes3.dynamodb.model import Database, Table
from fakes3.dynamodb.schema import IndexSpec, table_spec
from fakes3.dynamodb.tables import describe

Params = dict[str, Any]
_IN_USE = {"CREATING": "created", "DELETING": "deleted"}


def _index_wire(spec: IndexSpec, with_throughput: bool) -> Params:
    out: Params = {"IndexName": spec.name, "KeySchema": spec.keys.wire(),
                   "Projection": spec.projection.wire()}
    if with_throughput and spec.throughput:
        out["ProvisionedThroughput"] = dict(spec.throughput)
    return out


def _chosen_indexes(backup: Backup, kind: str, override: list[Params] | None,
                    with_throughput: bool) -> list[Params]:
    """The indexes of ``kind`` the restored table gets: the backup's, or the override's subset."""
    mine = {i.name: i for i in backup.spec.indexes if i.kind == kind}
    if override is None:
        return [_index_wire(i, with_throughput) for i in mine.values()]
    label = "GlobalSecondaryIndexOverride" if kind == "GLOBAL" else "LocalSecondaryIndexOverride"
    chosen = []
    for raw in override:
        found = mine.get(raw["IndexName"])
        if found is None:
            raise invalid_parameters(f"{label}: the backup has no {kind.lower()} secondary index named "
                                     f"{raw['IndexName']}; its indexes are {sorted(mine)}")
        if raw["KeySchema"] != found.keys.wire():
            raise invalid_parameters(f"{label}: the key schema of index {found.name} must match the "
                                     f"backup's: {found.keys.wire()}")
        index = dict(raw)
        if with_throughput and found.throughput and "ProvisionedThroughput" not in index:
            index["ProvisionedThroughput"] = dict(found.throughput)  # the backup's, as without an override
        chosen.append(index)
    return chosen


def _create_params(backup: Backup, params: Params) -> Params:
    """CreateTable's parameters for the restored table (so it is checked as CreateTable checks)."""
    billing = params.get("BillingModeOverride") or backup.billing_mode
    provisioned = billing != "PAY_PER_REQUEST"
    out: Params = {"KeySchema": backup.spec.keys.wire()}
    if billing is not None:
        out["BillingMode"] = billing
    throughput = params.get("ProvisionedThroughputOverride")
    if throughput is None and provisioned and backup.throughput:
        throughput = backup.throughput
    if throughput is not None:
        out["ProvisionedThroughput"] = dict(throughput)
    for kind, key in (("LOCAL", "LocalSecondaryIndexes"), ("GLOBAL", "GlobalSecondaryIndexes")):
        override_key = "LocalSecondaryIndexOverride" if kind == "LOCAL" else "GlobalSecondaryIndexOverride"
        chosen = _chosen_indexes(backup, kind, params.get(override_key), provisioned)
        if chosen:
            out[key] = chosen
    used = {*backup.spec.keys.names}
    for raw in [*out.get("LocalSecondaryIndexes", []), *out.get("GlobalSecondaryIndexes", [])]:
        used.update(element["AttributeName"] for element in raw["KeySchema"])
    out["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t}
                                   for n, t in backup.spec.attributes.items() if n in used]
    return out


def _build(db: Database, backup: Backup, name: str, params: Params, now: float) -> Table:
    spec = table_spec(_create_params(backup, params))
    table = Table(name, spec, region=db.region, account_id=db.account_id, created=now,
                  ready_at=now + db.table_delay)
    if table.pay_per_request:
        table.billing_changed = now
    sse = params.get("SSESpecificationOverride", backup.extras.get("SSESpecification"))
    if sse is not None:
        table.extras["SSESpecification"] = dict(sse)
    if "TableClass" in backup.extras:
        table.extras["TableClass"] = backup.extras["TableClass"]
    table.restored_from = {"backup_arn": backup.arn, "table_arn": backup.table_arn, "at": now}
    for entry in backup.entries:
        table.write(*table.locate(table.key_of(entry.item)), entry.item, entry.size)
    return table


def _check_target(db: Database, name: str) -> None:
    """The target name must be free (caller holds the lock)."""
    existing = db.find(name)
    if existing is None:
        return
    status = existing.status(db.now())
    if status in _IN_USE:
        raise DynamoDBError("TableInUseException", f"Table is being {_IN_USE[status]}: {name}. Wait "
                            "until it is done, or restore to another TargetTableName.")
    raise DynamoDBError("TableAlreadyExistsException", f"Table already exists: {name}")


def restore_table_from_backup(db: Database, params: Params, ctx: RequestContext) -> Params:
    name = db.table_name(params["TargetTableName"])
    with db.lock:
        backup = db.backups.get(params["BackupArn"])
        if backup is None:
            raise backup_not_found(params["BackupArn"])
        now = db.now()
        if backup.status(now) == "CREATING":
            raise backup_in_use(backup.arn)
        _check_target(db, name)
    # Built outside the lock (the backup's entries never change), published under it.
    table = _build(db, backup, name, params, now)
    with db.lock:
        _check_target(db, name)  # someone may have taken the name meanwhile
        if db.persistence is not None:
            db.persistence.table_restored(table)
        db.tables[name] = table
        desc = describe(table, now)  # with its RestoreSummary
    return {"TableDescription": desc}
