"""DynamoDB on-demand backups and point-in-time recovery settings: CreateBackup, DescribeBackup,
ListBackups, DeleteBackup, RestoreTableFromBackup (backup_restore.py), DescribeContinuousBackups,
UpdateContinuousBackups.

A backup is a consistent snapshot (backup_snapshot.py) taken under ``Database.lock``; it is kept
in ``Database.backups`` and outlives its table (DeleteTable leaves it). It is AVAILABLE at once,
or CREATING for the database's table delay, like a table. With a data dir it is written before
CreateBackup answers and read back at the next start.

Point-in-time recovery is a setting only: DescribeContinuousBackups reports it (continuous
backups are always ENABLED, PITR DISABLED until UpdateContinuousBackups enables it) with the
restorable window it would have, and RestoreTableToPointInTime is not implemented.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb.backup_restore import restore_table_from_backup
from fakes3.dynamodb.backup_snapshot import (
    Backup,
    arn_order,
    backup_in_use,
    backup_not_found,
    description,
    details,
    snapshot,
    summary,
    table_not_found,
)
from fakes3.dynamodb.errors import DynamoDBError, validation
from fakes3.dynamodb.model import Database, Table

__all__ = ["create_backup", "delete_backup", "describe_backup", "describe_continuous_backups",
           "list_backups", "restore_table_from_backup", "update_continuous_backups"]

Params = dict[str, Any]
DAY = 24 * 3600
DEFAULT_RECOVERY_DAYS = 35
LATEST_RESTORABLE_LAG = 300  # "LatestRestorableDateTime is typically 5 minutes before the current time"


def source_table(db: Database, name_or_arn: str) -> Table:
    """The table a backup operation names (caller holds the lock): a missing or deleting one is
    TableNotFoundException, not ResourceNotFoundException."""
    table = db.find(name_or_arn)
    if table is None or table.deleting_until is not None:
        raise table_not_found(db.table_name(name_or_arn))
    return table


def _backup(db: Database, arn: str) -> Backup:
    backup = db.backups.get(arn)
    if backup is None:
        raise backup_not_found(arn)
    return backup


# -- on-demand backups --------------------------------------------------------------------------


def create_backup(db: Database, params: Params, ctx: RequestContext) -> Params:
    with db.lock:
        table = source_table(db, params["TableName"])
        now = db.now()
        if table.status(now) == "CREATING":
            raise DynamoDBError("TableInUseException", f"Table is being created: {table.name}. Wait "
                                "until its TableStatus is ACTIVE, then back it up.")
        backup = snapshot(table, params["BackupName"], now, db.table_delay)
        resets = db.resets
    # Written before anyone can see (or delete) it, outside the lock: a big table's rows take a while.
    if db.persistence is not None:
        db.persistence.backup_created(backup)
    with db.lock:
        if db.resets == resets:
            db.backups[backup.arn] = backup
        elif db.persistence is not None:  # everything was forgotten meanwhile: this backup too
            db.persistence.backup_deleted(backup.arn)
    return {"BackupDetails": details(backup, now)}


def describe_backup(db: Database, params: Params, ctx: RequestContext) -> Params:
    with db.lock:
        backup = _backup(db, params["BackupArn"])
        now = db.now()
    return {"BackupDescription": description(backup, now)}


def delete_backup(db: Database, params: Params, ctx: RequestContext) -> Params:
    with db.lock:
        backup = _backup(db, params["BackupArn"])
        now = db.now()
        if backup.status(now) == "CREATING":
            raise backup_in_use(backup.arn)
        del db.backups[backup.arn]
        if db.persistence is not None:
            db.persistence.backup_deleted(backup.arn)
    return {"BackupDescription": description(backup, now, status="DELETED")}


def list_backups(db: Database, params: Params, ctx: RequestContext) -> Params:
    """Oldest first (by creation time, then ARN); TimeRangeLowerBound is inclusive, the upper bound
    exclusive (API reference); a page ends with LastEvaluatedBackupArn when more follow."""
    wanted_table = db.table_name(params["TableName"]) if params.get("TableName") else None
    lower: dt.datetime | None = params.get("TimeRangeLowerBound")
    upper: dt.datetime | None = params.get("TimeRangeUpperBound")
    limit: int | None = params.get("Limit")
    start = params.get("ExclusiveStartBackupArn")
    try:
        after = arn_order(start) if start else None
    except ValueError:
        raise validation(f"Invalid ExclusiveStartBackupArn: {start}. Pass the LastEvaluatedBackupArn "
                         "of the previous ListBackups page.") from None
    with db.lock:
        backups = list(db.backups.values())
        now = db.now()
    if params.get("BackupType", "USER") not in ("USER", "ALL"):
        backups = []  # every backup here is one a user made (no SYSTEM or AWS_BACKUP backups)
    chosen = sorted((b for b in backups
                     if (wanted_table is None or b.table_name == wanted_table)
                     and (lower is None or b.created >= lower.timestamp())
                     and (upper is None or b.created < upper.timestamp())
                     and (after is None or arn_order(b.arn) > after)),
                    key=lambda b: arn_order(b.arn))
    page = chosen if limit is None else chosen[:limit]
    result: Params = {"BackupSummaries": [summary(b, now) for b in page]}
    if len(page) < len(chosen):
        result["LastEvaluatedBackupArn"] = page[-1].arn
    return result


# -- point-in-time recovery settings ------------------------------------------------------------


def _continuous_backups(table: Table, now: float) -> Params:
    pitr = table.pitr
    if pitr is None:
        recovery: Params = {"PointInTimeRecoveryStatus": "DISABLED"}
    else:
        earliest = max(pitr["enabled_at"], now - pitr["days"] * DAY)
        latest = max(earliest, now - LATEST_RESTORABLE_LAG)
        recovery = {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": pitr["days"],
                    "EarliestRestorableDateTime": dt.datetime.fromtimestamp(earliest, dt.UTC),
                    "LatestRestorableDateTime": dt.datetime.fromtimestamp(latest, dt.UTC)}
    return {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
                                             "PointInTimeRecoveryDescription": recovery}}


def describe_continuous_backups(db: Database, params: Params, ctx: RequestContext) -> Params:
    with db.lock:
        table = source_table(db, params["TableName"])
        return _continuous_backups(table, db.now())


def update_continuous_backups(db: Database, params: Params, ctx: RequestContext) -> Params:
    spec = params["PointInTimeRecoverySpecification"]
    with db.lock:
        table = source_table(db, params["TableName"])
        now = db.now()
        if table.status(now) == "CREATING":
            # What AWS answers while a new table's continuous backups are being set up.
            raise DynamoDBError("ContinuousBackupsUnavailableException",
                                f"Backups are being enabled for the table: {table.name}. Please retry later")
        if spec["PointInTimeRecoveryEnabled"]:
            # Enabling it again keeps the window; disabling it starts the next one afresh.
            enabled_at = table.pitr["enabled_at"] if table.pitr else now
            table.pitr = {"enabled_at": enabled_at,
                          "days": spec.get("RecoveryPeriodInDays", DEFAULT_RECOVERY_DAYS)}
        else:
            table.pitr = None  # a RecoveryPeriodInDays alongside is ignored
        if db.persistence is not None:
            db.persistence.table_changed(table)
        return _continuous_backups(table, now)
