"""DynamoDBService: DynamoDB's semantics behind one endpoint, dispatching by botocore operation name.

Handlers take the dict ``boto3.client("dynamodb").<operation>(**params)`` takes and return the
dict boto3 would return; errors are ``fakes3.dynamodb.errors.DynamoDBError``. Nothing here
knows about HTTP.

With ``data_dir`` tables and items survive restarts (persistence.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from fakes3.auth.credentials import DEFAULT_ACCOUNT_ID
from fakes3.context import RequestContext
from fakes3.dynamodb import backups, batch, items, partiql, query, tables, transactions, ttl
from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.model import Database
from fakes3.dynamodb.persistence import Persistence
from fakes3.protocol.json_protocol import CORAL_SERVICE

Operation = Callable[[Database, dict[str, Any], RequestContext], dict[str, Any]]

_OPERATIONS: dict[str, Operation] = {
    "CreateTable": tables.create_table,
    "DescribeTable": tables.describe_table,
    "ListTables": tables.list_tables,
    "DeleteTable": tables.delete_table,
    "UpdateTable": tables.update_table,
    "UpdateTimeToLive": tables.update_time_to_live,
    "DescribeTimeToLive": tables.describe_time_to_live,
    "TagResource": tables.tag_resource,
    "UntagResource": tables.untag_resource,
    "ListTagsOfResource": tables.list_tags_of_resource,
    "PutItem": items.put_item,
    "GetItem": items.get_item,
    "UpdateItem": items.update_item,
    "DeleteItem": items.delete_item,
    "Query": query.query,
    "Scan": query.scan,
    "BatchGetItem": batch.batch_get_item,
    "BatchWriteItem": batch.batch_write_item,
    "TransactWriteItems": transactions.transact_write_items,
    "TransactGetItems": transactions.transact_get_items,
    "ExecuteStatement": partiql.execute_statement,
    "BatchExecuteStatement": partiql.batch_execute_statement,
    "ExecuteTransaction": partiql.execute_transaction,
    "CreateBackup": backups.create_backup,
    "DescribeBackup": backups.describe_backup,
    "ListBackups": backups.list_backups,
    "DeleteBackup": backups.delete_backup,
    "RestoreTableFromBackup": backups.restore_table_from_backup,
    "DescribeContinuousBackups": backups.describe_continuous_backups,
    "UpdateContinuousBackups": backups.update_continuous_backups,
}

# Operations DynamoDB has and fakes3 does not: answered with a clear error, not UnknownOperation.
_NOT_IMPLEMENTED = frozenset({
    "RestoreTableToPointInTime", "CreateGlobalTable", "DescribeGlobalTable", "ListGlobalTables",
    "UpdateGlobalTable", "DescribeGlobalTableSettings", "UpdateGlobalTableSettings",
    "DescribeContributorInsights", "ListContributorInsights",
    "UpdateContributorInsights", "ExportTableToPointInTime", "DescribeExport", "ListExports",
    "ImportTable", "DescribeImport", "ListImports", "DescribeKinesisStreamingDestination",
    "EnableKinesisStreamingDestination", "DisableKinesisStreamingDestination",
    "UpdateKinesisStreamingDestination", "DescribeTableReplicaAutoScaling",
    "UpdateTableReplicaAutoScaling", "GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy",
})


def _describe_limits(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}


def _describe_endpoints(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return {"Endpoints": [{"Address": f"dynamodb.{db.region}.amazonaws.com", "CachePeriodInMinutes": 1440}]}


_OPERATIONS["DescribeLimits"] = _describe_limits
_OPERATIONS["DescribeEndpoints"] = _describe_endpoints


class DynamoDBService:
    """One DynamoDB endpoint's state: tables, items, indexes. Thread-safe."""

    operations: frozenset[str] = frozenset(_OPERATIONS) | _NOT_IMPLEMENTED

    def __init__(self, *, region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID,
                 clock: Callable[[], float] = time.time, table_delay: float = 0.0,
                 data_dir: str | os.PathLike[str] | None = None) -> None:
        """``data_dir``: keep tables and items there across restarts (and read them back now).
        Raises persistence.DataDirError if it cannot be used."""
        self.db = Database(region=region, account_id=account_id, clock=clock, table_delay=table_delay)
        self.persistence = Persistence(data_dir) if data_dir is not None else None
        if self.persistence is not None:
            try:
                self.persistence.load(self.db)
            except BaseException:
                self.persistence.close()
                raise

    def handle(self, operation: str, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise DynamoDBError("UnknownOperationException",
                                f"fakes3 does not implement the DynamoDB {operation} operation yet.",
                                namespace=CORAL_SERVICE)
        return handler(self.db, params, ctx)

    def reset(self) -> None:
        """Forget every table (a running request finishes against the tables it already found;
        with a data dir: empty it)."""
        self.db.reset()

    def expire_ttl(self) -> int:
        """Delete the items whose TTL has passed on the server's clock (DynamoDB does it within
        days, in the background: see ttl.py); how many were deleted."""
        return ttl.expire(self.db)

    def close(self) -> None:
        """With a data dir: let go of it (everything in it is kept for the next start)."""
        if self.persistence is not None:
            self.persistence.close()

    @property
    def table_delay(self) -> float:
        return self.db.table_delay

    @table_delay.setter
    def table_delay(self, seconds: float) -> None:
        self.db.table_delay = seconds
