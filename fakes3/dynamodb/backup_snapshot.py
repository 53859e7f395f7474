"""An on-demand backup: a consistent copy of one table's items and schema, and how DynamoDB
describes it (BackupDetails, BackupSummary, SourceTableDetails, SourceTableFeatureDetails).

A backup keeps what a restore brings back — key schema, attribute definitions, local and global
secondary indexes, billing mode and provisioned throughput, encryption (SSE) and table class —
plus the stream and TTL settings, which DescribeBackup reports but a restore does not keep
(Developer Guide, "Backing up and restoring DynamoDB tables with DynamoDB: How it works": tags,
stream settings, TTL, auto scaling and IAM policies must be set up again on the restored table).

Stored items are never changed (a write stores a new ``Entry``), so the snapshot is a list of the
table's entries taken under ``Database.lock``: a state no reader can see half of, copied in one
pass of references, without copying item values.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.model import Table
from fakes3.dynamodb.schema import TableSpec
from fakes3.dynamodb.storage import Entry

# The settings a backup records from Table.extras (DeletionProtection is the table's, not the data's).
KEPT_EXTRAS = ("SSESpecification", "StreamSpecification", "TableClass")


@dataclass
class Backup:
    arn: str
    name: str
    created: float  # epoch seconds: BackupCreationDateTime, the time of the request
    available_at: float  # CREATING until then (the database's table delay), AVAILABLE after
    table_name: str
    table_id: str
    table_arn: str
    table_created: float
    spec: TableSpec  # a deep copy: UpdateTable changes the table's own spec in place
    billing_mode: str | None
    throughput: dict[str, int]
    extras: dict[str, Any]
    ttl: dict[str, str] | None
    entries: list[Entry]  # the table's items (shared, immutable) in Scan order
    size: int

    def status(self, now: float) -> str:
        return "CREATING" if now < self.available_at else "AVAILABLE"

    @property
    def pay_per_request(self) -> bool:
        return self.billing_mode == "PAY_PER_REQUEST"


def backup_arn(table: Table, now: float) -> str:
    """``<table ARN>/backup/<epoch milliseconds, 14 digits>-<8 hex digits>``, as DynamoDB names
    them (e.g. ``.../table/MusicCollection/backup/01576616366715-b4e58d3a``, AWS CLI reference
    create-backup)."""
    return f"{table.arn}/backup/{int(now * 1000):014d}-{secrets.token_hex(4)}"


def arn_order(arn: str) -> tuple[int, str]:
    """Where a backup ARN sorts in ListBackups: by creation time (in the ARN), then ARN.
    Raises ValueError for a string that is not a backup ARN."""
    _head, found, tail = arn.rpartition("/backup/")
    stamp = tail.split("-", 1)[0]
    if not found or not stamp.isdigit():
        raise ValueError(arn)
    return int(stamp), arn


def snapshot(table: Table, name: str, now: float, delay: float) -> Backup:
    """A backup of ``table`` as it is now (the caller holds ``Database.lock``)."""
    now = int(now * 1000) / 1000  # what the wire shows (milliseconds), so time bounds compare alike
    entries = [entry for _pkey, _skey, entry in table.store.scan()]
    return Backup(
        arn=backup_arn(table, now), name=name, created=now, available_at=now + delay,
        table_name=table.name, table_id=table.id, table_arn=table.arn, table_created=table.created,
        spec=copy.deepcopy(table.spec), billing_mode=table.billing_mode,
        throughput=dict(table.throughput),
        extras=copy.deepcopy({k: table.extras[k] for k in KEPT_EXTRAS if k in table.extras}),
        ttl=dict(table.ttl) if table.ttl else None, entries=entries, size=table.store.size)


# -- descriptions -------------------------------------------------------------------------------


def _when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _throughput(values: dict[str, int] | None) -> dict[str, int]:
    values = values or {}
    return {"ReadCapacityUnits": values.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": values.get("WriteCapacityUnits", 0)}


def details(backup: Backup, now: float, status: str | None = None) -> dict[str, Any]:
    return {"BackupArn": backup.arn, "BackupName": backup.name, "BackupSizeBytes": backup.size,
            "BackupStatus": status or backup.status(now), "BackupType": "USER",
            "BackupCreationDateTime": _when(backup.created)}


def summary(backup: Backup, now: float) -> dict[str, Any]:
    return {"TableName": backup.table_name, "TableId": backup.table_id, "TableArn": backup.table_arn,
            **details(backup, now)}


def source_table_details(backup: Backup) -> dict[str, Any]:
    return {
        "TableName": backup.table_name, "TableId": backup.table_id, "TableArn": backup.table_arn,
        "TableSizeBytes": backup.size, "KeySchema": backup.spec.keys.wire(),
        "TableCreationDateTime": _when(backup.table_created),
        "ProvisionedThroughput": _throughput(None if backup.pay_per_request else backup.throughput),
        "ItemCount": len(backup.entries), "BillingMode": backup.billing_mode or "PROVISIONED",
    }


def sse_description(sse: dict[str, Any], table_arn: str) -> dict[str, Any]:
    region, account = table_arn.split(":")[3:5]
    return {"Status": "ENABLED", "SSEType": sse.get("SSEType", "KMS"),
            "KMSMasterKeyArn": sse.get("KMSMasterKeyId") or f"arn:aws:kms:{region}:{account}:key/fakes3"}


def source_table_feature_details(backup: Backup) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lsis = [{"IndexName": i.name, "KeySchema": i.keys.wire(), "Projection": i.projection.wire()}
            for i in backup.spec.indexes if i.kind == "LOCAL"]
    gsis = []
    for index in backup.spec.indexes:
        if index.kind == "GLOBAL":
            gsi: dict[str, Any] = {"IndexName": index.name, "KeySchema": index.keys.wire(),
                                   "Projection": index.projection.wire()}
            if not backup.pay_per_request:
                gsi["ProvisionedThroughput"] = _throughput(index.throughput)
            gsis.append(gsi)
    if lsis:
        out["LocalSecondaryIndexes"] = lsis
    if gsis:
        out["GlobalSecondaryIndexes"] = gsis
    stream = backup.extras.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        out["StreamDescription"] = stream
    if backup.ttl:
        out["TimeToLiveDescription"] = {"TimeToLiveStatus": "ENABLED",
                                        "AttributeName": backup.ttl["AttributeName"]}
    sse = backup.extras.get("SSESpecification")
    if sse and sse.get("Enabled"):
        out["SSEDescription"] = sse_description(sse, backup.table_arn)
    return out


def description(backup: Backup, now: float, status: str | None = None) -> dict[str, Any]:
    """A BackupDescription (DescribeBackup, DeleteBackup)."""
    return {"BackupDetails": details(backup, now, status),
            "SourceTableDetails": source_table_details(backup),
            "SourceTableFeatureDetails": source_table_feature_details(backup)}


# -- errors (the codes and messages DynamoDB answers) --------------------------------------------


def table_not_found(name: str) -> DynamoDBError:
    """The backup operations' missing table (not ResourceNotFoundException): "TableNotFoundException:
    Table not found: <name>" (DescribeContinuousBackups, as terraform-provider-aws#26577 and
    ScoutSuite#1533 quote AWS)."""
    return DynamoDBError("TableNotFoundException", f"Table not found: {name}")


def backup_not_found(arn: str) -> DynamoDBError:
    """As AWS answers DescribeBackup (steampipe-plugin-aws#1913 quotes it)."""
    return DynamoDBError("BackupNotFoundException", f"Backup not found: {arn}")


def backup_in_use(arn: str) -> DynamoDBError:
    return DynamoDBError("BackupInUseException",
                         f"Backup is being created: {arn}. Wait until its BackupStatus is AVAILABLE.")
