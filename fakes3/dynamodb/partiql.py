"""DynamoDB's PartiQL: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

Statements are parsed (partiql_parser.py) and then run as the native operations run: an INSERT is
a PutItem, an UPDATE an UpdateItem, a DELETE a DeleteItem (partiql_translate.py builds their
parameters, and writes.prepare/execute check and apply them, so conditions, item size limits,
types, persistence and the fault seam behave as they do natively); a SELECT reads as Query or Scan
does (partiql_select.py). ExecuteTransaction is TransactWriteItems / TransactGetItems underneath,
with its all-or-nothing commit and ClientRequestToken idempotency.

DynamoDB's rules, from the API reference and DynamoDB Local (eznix86/dynamodb-local-decompiled):
- a batch or a transaction holds reads only or writes only;
- a SELECT in a batch or a transaction reads one item by its full key;
- BatchExecuteStatement answers each statement's error in its own response (HTTP 200), with the
  codes of BatchStatementErrorCodeEnum (ValidationError, ConditionalCheckFailed, DuplicateItem,
  ResourceNotFound, ...).
"""

from __future__ import annotations

from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb import capacity, items, transactions
from fakes3.dynamodb.errors import DynamoDBError, validation
from fakes3.dynamodb.model import Database, Table
from fakes3.dynamodb.partiql_parser import Delete, Exists, Insert, Select, Statement, Update, parse
from fakes3.dynamodb.partiql_select import execute_select, projection_labels, shape
from fakes3.dynamodb.partiql_translate import (
    DUPLICATE_ITEM,
    check_params,
    delete_params,
    duplicate_item,
    put_params,
    single_item_key,
    update_params,
)
from fakes3.dynamodb.writes import execute, lookup, prepare

Params = dict[str, Any]

MAX_BATCH = 25
MAX_STATEMENT_LENGTH = 8192
_NATIVE = {Insert: ("PutItem", "Put"), Update: ("UpdateItem", "Update"), Delete: ("DeleteItem", "Delete")}
# BatchStatementErrorCodeEnum and CancellationReason codes, by the exception DynamoDB would raise.
_ERROR_CODES = {"ValidationException": "ValidationError",
                "ConditionalCheckFailedException": "ConditionalCheckFailed",
                "DuplicateItemException": "DuplicateItem",
                "ResourceNotFoundException": "ResourceNotFound",
                "TransactionConflictException": "TransactionConflict",
                "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded"}


def _check_length(statement: Any) -> None:
    if isinstance(statement, str) and len(statement) > MAX_STATEMENT_LENGTH:
        raise validation(f"Member must have length less than or equal to {MAX_STATEMENT_LENGTH}")


def _table(db: Database, statement: Statement) -> Table:
    source = statement.select.source if isinstance(statement, Exists) else statement.source
    return lookup(db, source.table)


def _write_params(db: Database, statement: Statement) -> Params:
    """The native operation's parameters for an INSERT, UPDATE or DELETE."""
    keys = _table(db, statement).keys
    if isinstance(statement, Insert):
        return put_params(statement, keys)
    if isinstance(statement, Update):
        return update_params(statement, keys)
    assert isinstance(statement, Delete)
    return delete_params(statement, keys)


def _run_write(db: Database, statement: Statement, request: Params) -> tuple[Params, capacity.Usage]:
    """Run one write statement; its Items (what RETURNING asks for) and its capacity."""
    params = _write_params(db, statement)
    if request.get("ReturnValuesOnConditionCheckFailure") is not None and not isinstance(statement, Insert):
        params["ReturnValuesOnConditionCheckFailure"] = request["ReturnValuesOnConditionCheckFailure"]
    operation = _NATIVE[type(statement)][0]
    write = prepare(db, operation, params)
    try:
        result = execute(db, write, operation)
    except DynamoDBError as err:
        if isinstance(statement, Insert) and err.code == "ConditionalCheckFailedException":
            raise duplicate_item() from None
        raise
    usage = capacity.Usage(write.table.name, read=False)
    usage.add_write(result)
    attributes = write.attributes(result.old, result.new)
    return {"Items": [attributes] if attributes else []}, usage


def execute_statement(db: Database, params: Params, ctx: RequestContext) -> Params:
    _check_length(params.get("Statement"))
    statement = parse(params.get("Statement", ""), params.get("Parameters"))
    if isinstance(statement, Select):
        return execute_select(db, statement, params)
    out, usage = _run_write(db, statement, params)
    capacity.add_consumed(out, params, usage)
    return out


# -- BatchExecuteStatement -----------------------------------------------------------------------------


def _batch_error(err: DynamoDBError, table: str | None) -> Params:
    error: Params = {"Code": _ERROR_CODES.get(err.code, err.code.removesuffix("Exception")),
                     "Message": err.message}
    if err.extra.get("Item") is not None:
        error["Item"] = err.extra["Item"]
    response: Params = {"Error": error}
    if table is not None:
        response["TableName"] = table
    return response


def _batch_read(db: Database, statement: Select, request: Params, usages: dict[str, capacity.Usage],
                ctx: RequestContext) -> Params:
    table = lookup(db, statement.source.table)
    key = single_item_key(statement, table.keys, "Only single item select is supported")
    labels = projection_labels(statement.projection)
    native = {"TableName": table.name, "Key": key, "ConsistentRead": request.get("ConsistentRead"),
              "ReturnConsumedCapacity": "TOTAL"}
    got = items.get_item(db, native, ctx)
    usage = usages.setdefault(table.name, capacity.Usage(table.name, read=True))
    usage.units += got["ConsumedCapacity"]["CapacityUnits"]
    response: Params = {"TableName": table.name}
    if "Item" in got:
        response["Item"] = shape(got["Item"], labels)
    return response


def batch_execute_statement(db: Database, params: Params, ctx: RequestContext) -> Params:
    requests = params.get("Statements") or []
    if not requests:
        raise validation("The statement was empty.")
    if len(requests) > MAX_BATCH:
        raise validation(f"Member must have length less than or equal to {MAX_BATCH}")
    parsed: list[Statement | DynamoDBError] = []
    for request in requests:
        text = request.get("Statement")
        if not text:
            raise validation("The statement was empty.")
        _check_length(text)
        try:
            statement = parse(text, request.get("Parameters"))
        except DynamoDBError as err:
            parsed.append(err)
            continue
        parsed.append(statement)
    kinds = {isinstance(p, Select) for p in parsed if not isinstance(p, DynamoDBError)}
    if len(kinds) > 1:  # DynamoDB Local's PARTIQL_BATCH_MIXED_READ_WRITE
        raise validation("Read and write requests together in the same batch is not supported.")
    responses: list[Params] = []
    usages: dict[str, capacity.Usage] = {}
    for request, entry in zip(requests, parsed, strict=True):
        if isinstance(entry, DynamoDBError):
            responses.append(_batch_error(entry, None))
            continue
        statement = entry
        table_name = statement.source.table if not isinstance(statement, Exists) else None
        try:
            if isinstance(statement, Select):
                responses.append(_batch_read(db, statement, request, usages, ctx))
            else:
                _out, usage = _run_write(db, statement, request)
                total = usages.setdefault(usage.table, capacity.Usage(usage.table, read=False))
                total.units += usage.total
                responses.append({"TableName": usage.table})
        except DynamoDBError as err:
            responses.append(_batch_error(err, table_name))
    out: Params = {"Responses": responses}
    capacity.add_consumed_all(out, params, usages)
    return out


# -- ExecuteTransaction --------------------------------------------------------------------------------


def _transaction_reads(db: Database, statements: list[Select], params: Params, ctx: RequestContext) -> Params:
    gets, labels = [], []
    for statement in statements:
        if statement.source.index is not None:
            raise validation("Reads on indices are not supported within transactions.")
        table = lookup(db, statement.source.table)
        key = single_item_key(statement, table.keys, "Select statements within ExecuteTransaction must "
                                                     "specify the primary key in the where clause.")
        gets.append({"Get": {"TableName": table.name, "Key": key}})
        labels.append(projection_labels(statement.projection))
    native: Params = {"TransactItems": gets}
    if params.get("ReturnConsumedCapacity") is not None:
        native["ReturnConsumedCapacity"] = params["ReturnConsumedCapacity"]
    result = transactions.transact_get_items(db, native, ctx)
    responses = [{"Item": shape(r["Item"], label)} if "Item" in r else {}
                 for r, label in zip(result["Responses"], labels, strict=True)]
    out: Params = {"Responses": responses}
    if "ConsumedCapacity" in result:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return out


def _transaction_item(db: Database, statement: Statement, request: Params) -> Params:
    if isinstance(statement, Update | Delete) and statement.returning is not None:
        raise validation("RETURNING is not supported in ExecuteTransaction")
    if isinstance(statement, Exists):
        body = check_params(statement, _table(db, statement).keys)
        kind = "ConditionCheck"
    else:
        body = _write_params(db, statement)
        kind = _NATIVE[type(statement)][1]
    if request.get("ReturnValuesOnConditionCheckFailure") is not None:
        body["ReturnValuesOnConditionCheckFailure"] = request["ReturnValuesOnConditionCheckFailure"]
    return {kind: body}


def _duplicates_named(err: DynamoDBError, inserts: set[int]) -> DynamoDBError:
    """TransactWriteItems' cancellation, with an INSERT's failed condition reported as DuplicateItem."""
    reasons = [dict(r) for r in err.extra.get("CancellationReasons", [])]
    for position in inserts:
        if position < len(reasons) and reasons[position].get("Code") == "ConditionalCheckFailed":
            reasons[position] = {"Code": "DuplicateItem", "Message": DUPLICATE_ITEM}
    codes = ", ".join(r["Code"] for r in reasons)
    return DynamoDBError(err.code, f"Transaction cancelled, please refer cancellation reasons for specific "
                                   f"reasons [{codes}]", extra={"CancellationReasons": reasons})


def execute_transaction(db: Database, params: Params, ctx: RequestContext) -> Params:
    requests = params.get("TransactStatements") or []
    if not requests:
        raise validation("ExecutePartiQLTransaction can not have empty statement.")
    if len(requests) > transactions.MAX_ACTIONS:
        raise validation(f"Member must have length less than or equal to {transactions.MAX_ACTIONS}")
    statements: list[Statement] = []
    for request in requests:
        if not request.get("Statement"):
            raise validation("ExecutePartiQLTransaction can not have empty statement.")
        _check_length(request["Statement"])
        statements.append(parse(request["Statement"], request.get("Parameters"), allow_exists=True))
    reads = [s for s in statements if isinstance(s, Select)]
    if reads and len(reads) != len(statements):
        raise validation("ExecuteTransaction API does not support both read and write operations in the same "
                         "request.")
    if reads:
        return _transaction_reads(db, reads, params, ctx)
    native: Params = {"TransactItems": [_transaction_item(db, s, r) for s, r in zip(statements, requests,
                                                                                      strict=True)]}
    for name in ("ClientRequestToken", "ReturnConsumedCapacity"):
        if params.get(name) is not None:
            native[name] = params[name]
    try:
        result = transactions.transact_write_items(db, native, ctx)
    except DynamoDBError as err:
        if err.code != "TransactionCanceledException":
            raise
        raise _duplicates_named(err, {i for i, s in enumerate(statements) if isinstance(s, Insert)}) from None
    out: Params = {"Responses": []}  # DynamoDB Local's TransactionWriteProcessor answers an empty list
    if "ConsumedCapacity" in result:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return out
