"""DynamoDB's PartiQL: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction (being written)."""

from __future__ import annotations

from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.model import Database
from fakes3.protocol.json_protocol import CORAL_SERVICE

Params = dict[str, Any]


def _unimplemented(operation: str) -> DynamoDBError:
    return DynamoDBError("UnknownOperationException",
                         f"fakes3 does not implement the DynamoDB {operation} operation yet.",
                         namespace=CORAL_SERVICE)


def execute_statement(db: Database, params: Params, ctx: RequestContext) -> Params:
    raise _unimplemented("ExecuteStatement")


def batch_execute_statement(db: Database, params: Params, ctx: RequestContext) -> Params:
    raise _unimplemented("BatchExecuteStatement")


def execute_transaction(db: Database, params: Params, ctx: RequestContext) -> Params:
    raise _unimplemented("ExecuteTransaction")
