"""Table operations: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, TTL, tags.

Tables are ACTIVE at once unless the database has a ``table_delay``: then a new table is
CREATING, an updated one UPDATING (a new GSI CREATING and backfilling) and a deleted one
DELETING until that many seconds of the server's clock have passed, so waiters can be tested.

With a data dir every change to a table is written (persistence.py) under ``Database.lock``,
before the answer: a new table before anyone can see it, a deleted one (with its items) as its
deletion starts, any other change after the operation that may have made it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb.errors import (
    DynamoDBError,
    invalid_parameters,
    limit_exceeded,
    resource_in_use,
    resource_not_found,
    validation,
)
from fakes3.dynamodb.indexes import Index
from fakes3.dynamodb.model import Database, Table
from fakes3.dynamodb.schema import check_throughput, index_spec, table_spec

MAX_TAGS = 50
_TABLE_EXTRAS = ("StreamSpecification", "SSESpecification", "TableClass", "DeletionProtectionEnabled")


def _when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _throughput(values: dict[str, int] | None) -> dict[str, Any]:
    values = values or {}
    return {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": values.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": values.get("WriteCapacityUnits", 0)}


def describe(table: Table, now: float) -> dict[str, Any]:
    """A TableDescription as DescribeTable answers it."""
    desc: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t}
                                 for n, t in table.spec.attributes.items()],
        "TableName": table.name,
        "KeySchema": table.keys.wire(),
        "TableStatus": table.status(now),
        "CreationDateTime": _when(table.created),
        "ProvisionedThroughput": _throughput(None if table.pay_per_request else table.throughput),
        "TableSizeBytes": table.store.size,
        "ItemCount": table.store.count,
        "TableArn": table.arn,
        "TableId": table.id,
        "DeletionProtectionEnabled": bool(table.extras.get("DeletionProtectionEnabled")),
    }
    if table.billing_mode is not None:
        summary: dict[str, Any] = {"BillingMode": table.billing_mode}
        if table.pay_per_request:
            summary["LastUpdateToPayPerRequestDateTime"] = _when(table.billing_changed or table.created)
        desc["BillingModeSummary"] = summary
    lsis, gsis = [], []
    for index in table.indexes.values():
        entry: dict[str, Any] = {
            "IndexName": index.name, "KeySchema": index.keys.wire(),
            "Projection": index.spec.projection.wire(), "IndexSizeBytes": index.store.size,
            "ItemCount": index.store.count, "IndexArn": index.arn,
        }
        if index.is_global:
            creating = now < index.ready_at
            entry["IndexStatus"] = "CREATING" if creating else "ACTIVE"
            if creating and index.ready_at > table.ready_at:
                entry["Backfilling"] = True
            entry["ProvisionedThroughput"] = _throughput(
                None if table.pay_per_request else index.spec.throughput)
            gsis.append(entry)
        else:
            lsis.append(entry)
    if lsis:
        desc["LocalSecondaryIndexes"] = lsis
    if gsis:
        desc["GlobalSecondaryIndexes"] = gsis
    stream = table.extras.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        desc["StreamSpecification"] = stream
        desc["LatestStreamLabel"] = _when(table.created).strftime("%Y-%m-%dT%H:%M:%S.000")
        desc["LatestStreamArn"] = f"{table.arn}/stream/{desc['LatestStreamLabel']}"
    sse = table.extras.get("SSESpecification")
    if sse and sse.get("Enabled"):
        desc["SSEDescription"] = {"Status": "ENABLED", "SSEType": sse.get("SSEType", "KMS"),
                                  "KMSMasterKeyArn": sse.get("KMSMasterKeyId") or
                                  f"arn:aws:kms:{table.arn.split(':')[3]}:{table.arn.split(':')[4]}:key/fakes3"}
    if table.extras.get("TableClass"):
        desc["TableClassSummary"] = {"TableClass": table.extras["TableClass"]}
    source = table.restored_from  # a table RestoreTableFromBackup made
    if source is not None:
        desc["RestoreSummary"] = {"SourceBackupArn": source["backup_arn"],
                                  "SourceTableArn": source["table_arn"],
                                  "RestoreDateTime": _when(source["at"]),
                                  "RestoreInProgress": desc["TableStatus"] == "CREATING"}
    return desc


def _check_tags(tags: list[dict[str, str]]) -> None:
    if len(tags) > MAX_TAGS:
        raise limit_exceeded(f"Too many tags: a resource may have at most {MAX_TAGS} tags.")
    for tag in tags:
        if tag.get("Key", "").startswith("aws:"):
            raise validation("Tag keys starting with 'aws:' are reserved for system use.")


def create_table(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = table_spec(params)
    tags = params.get("Tags") or []
    _check_tags(tags)
    name = db.table_name(params["TableName"])
    with db.lock:
        if db.find(name) is not None:
            raise resource_in_use(f"Table already exists: {name}")
        now = db.now()
        table = Table(name, spec, region=db.region, account_id=db.account_id, created=now,
                      ready_at=now + db.table_delay)
        table.tags = {t["Key"]: t["Value"] for t in tags}
        if table.pay_per_request:
            table.billing_changed = now
        table.extras = {k: params[k] for k in _TABLE_EXTRAS if k in params}
        if db.persistence is not None:
            db.persistence.table_created(table)
        db.tables[name] = table
        return {"TableDescription": describe(table, now)}


def describe_table(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    with db.lock:
        table = db.describe_target(params["TableName"])
        return {"Table": describe(table, db.now())}


def list_tables(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    limit = params.get("Limit", 100)
    if limit > 100:
        raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                         "constraint: Member must have value less than or equal to 100")
    start = params.get("ExclusiveStartTableName")
    with db.lock:
        db.purge()
        names = sorted(db.tables)
    if start is not None:
        names = [n for n in names if n > start]
    result: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        result["LastEvaluatedTableName"] = names[limit - 1]
    return result


def delete_table(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    with db.lock:
        table = db.changeable(params["TableName"])
        if table.extras.get("DeletionProtectionEnabled"):
            raise validation("Resource cannot be deleted as it is currently protected against "
                             "deletion. Disable deletion protection first.")
        now = db.now()
        desc = describe(table, now)
        desc["TableStatus"] = "DELETING"
        if db.persistence is not None:
            db.persistence.table_deleted(table)
        if db.table_delay > 0:
            table.deleting_until = now + db.table_delay
        else:
            del db.tables[table.name]
            table.clear()
        return {"TableDescription": desc}


def update_table(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    changes = [k for k in ("ProvisionedThroughput", "BillingMode", "GlobalSecondaryIndexUpdates",
                           "StreamSpecification", "SSESpecification", "TableClass",
                           "DeletionProtectionEnabled", "ReplicaUpdates", "OnDemandThroughput",
                           "WarmThroughput") if k in params]
    if not changes:
        raise validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                         "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
    with db.lock:
        table = db.changeable(params["TableName"])
        try:
            return _update_table(db, table, params)
        finally:  # a change that failed half-way is still the model's state
            _written(db, table)


def _update_table(db: Database, table: Table, params: dict[str, Any]) -> dict[str, Any]:
    now = db.now()
    _update_billing(table, params, now)
    index_updates = params.get("GlobalSecondaryIndexUpdates") or []
    if index_updates:
        _update_indexes(db, table, params, index_updates, now)
    for key in _TABLE_EXTRAS:
        if key in params:
            table.extras[key] = params[key]
    if db.table_delay > 0 and ("BillingMode" in params or "ProvisionedThroughput" in params
                               or index_updates):
        table.updating_until = now + db.table_delay
    return {"TableDescription": describe(table, now)}


def _written(db: Database, table: Table) -> None:
    """With a data dir: write the table's settings if they changed (caller holds the lock)."""
    if db.persistence is not None:
        db.persistence.table_changed(table)


def _update_billing(table: Table, params: dict[str, Any], now: float) -> None:
    mode = params.get("BillingMode")
    throughput = params.get("ProvisionedThroughput")
    if mode is None and throughput is None:
        return
    current = table.billing_mode or "PROVISIONED"
    target = mode or current
    if target == "PAY_PER_REQUEST":
        check_throughput(target, throughput)
        if current != target:
            table.billing_changed = now
        table.throughput = {}
    else:
        if throughput is None and current == "PAY_PER_REQUEST":
            check_throughput(target, None)
        if throughput is not None:
            check_throughput(target, throughput)
            if current == "PROVISIONED" and throughput == table.throughput:
                raise validation(
                    "The provisioned throughput for the table will not change. The requested value "
                    "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                    f"{table.throughput.get('ReadCapacityUnits')}. Requested ReadCapacityUnits: "
                    f"{throughput['ReadCapacityUnits']}. Current WriteCapacityUnits provisioned for the "
                    f"table: {table.throughput.get('WriteCapacityUnits')}. Requested WriteCapacityUnits: "
                    f"{throughput['WriteCapacityUnits']}. Refer to the Amazon DynamoDB Developer Guide "
                    "for current limits and how to request higher limits.")
            table.throughput = dict(throughput)
        if current == "PAY_PER_REQUEST":
            for index in table.indexes.values():
                if index.is_global and not index.spec.throughput:
                    index.spec.throughput = dict(table.throughput)
    if mode is not None or table.billing_mode is not None:
        table.billing_mode = target


def _update_indexes(db: Database, table: Table, params: dict[str, Any], updates: list[dict[str, Any]],
                    now: float) -> None:
    online = [u for u in updates if "Create" in u or "Delete" in u]
    if len(online) > 1:
        raise limit_exceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted "
                             "simultaneously per table")
    defined = dict(table.spec.attributes)
    for definition in params.get("AttributeDefinitions") or []:
        defined[definition["AttributeName"]] = definition["AttributeType"]
    for update in updates:
        if "Create" in update:
            raw = update["Create"]
            if raw["IndexName"] in table.indexes:
                raise validation(f"One or more parameter values were invalid: Index with name: "
                                 f"{raw['IndexName']} already exists")
            spec = index_spec(raw, "GLOBAL", defined, table.keys, table.billing_mode)
            for name, kind in spec.keys.typed():
                declared = table.spec.attributes.get(name)
                if declared is not None and declared != kind:
                    raise invalid_parameters(f"Cannot change the type of key attribute {name}")
            table.spec.attributes.update({n: defined[n] for n in spec.keys.names})
            table.spec.indexes.append(spec)
            table.add_index(spec, now + db.table_delay).rebuild(list(table.items()))
        elif "Delete" in update:
            name = update["Delete"]["IndexName"]
            _global_index(table, name)
            del table.indexes[name]
            table.spec.indexes = [s for s in table.spec.indexes if s.name != name]
            used = {n for n in table.keys.names} | {n for i in table.indexes.values() for n in i.keys.names}
            table.spec.attributes = {k: v for k, v in table.spec.attributes.items() if k in used}
        elif "Update" in update:
            found = _global_index(table, update["Update"]["IndexName"])
            if table.pay_per_request and update["Update"].get("ProvisionedThroughput"):
                raise invalid_parameters("Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                                         "specified when BillingMode is PAY_PER_REQUEST")
            found.spec.throughput = dict(update["Update"].get("ProvisionedThroughput") or {})


def _global_index(table: Table, name: str) -> Index:
    """The table's global secondary index ``name``, or ResourceNotFoundException."""
    found = table.indexes.get(name)
    if found is None or not found.is_global:
        raise resource_not_found(f"Requested resource not found: Requested index {name} not found")
    return found


# -- time to live -------------------------------------------------------------------------------


def update_time_to_live(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = params["TimeToLiveSpecification"]
    with db.lock:
        table = db.table(params["TableName"])
        enabled = table.ttl is not None
        if spec["Enabled"] and enabled:
            raise validation("TimeToLive is already enabled")
        if not spec["Enabled"] and not enabled:
            raise validation("TimeToLive is already disabled")
        if not spec["Enabled"] and table.ttl and table.ttl["AttributeName"] != spec["AttributeName"]:
            raise validation(f"TimeToLive is active on a different AttributeName: current "
                             f"AttributeName is {table.ttl['AttributeName']}")
        table.ttl = {"AttributeName": spec["AttributeName"]} if spec["Enabled"] else None
        _written(db, table)
    return {"TimeToLiveSpecification": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]}}


def describe_time_to_live(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    with db.lock:
        table = db.describe_target(params["TableName"])
        ttl = table.ttl
    if ttl is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl["AttributeName"]}}


# -- tags ---------------------------------------------------------------------------------------


def _tagged(db: Database, arn: str) -> Table:
    if not arn.startswith("arn:"):
        raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    table = db.by_arn(arn)
    if table is None:
        raise DynamoDBError("ResourceNotFoundException",
                            f"Requested resource not found: ResourcArn: {arn} not found")
    return table


def tag_resource(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    with db.lock:
        table = _tagged(db, params["ResourceArn"])
        merged = {**table.tags, **{t["Key"]: t["Value"] for t in params["Tags"]}}
        _check_tags([{"Key": k, "Value": v} for k, v in merged.items()])
        table.tags = merged
        _written(db, table)
    return {}


def untag_resource(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    with db.lock:
        table = _tagged(db, params["ResourceArn"])
        for key in params["TagKeys"]:
            table.tags.pop(key, None)
        _written(db, table)
    return {}


def list_tags_of_resource(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    with db.lock:
        table = _tagged(db, params["ResourceArn"])
        tags = [{"Key": k, "Value": v} for k, v in table.tags.items()]
    return {"Tags": tags}
