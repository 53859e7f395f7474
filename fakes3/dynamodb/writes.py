"""One item write, prepared and checked before it runs: shared by PutItem, UpdateItem, DeleteItem,
BatchWriteItem and TransactWriteItems.

``prepare`` checks everything that does not depend on the stored item (expressions, keys,
the item's own validity); ``Write.passes`` then evaluates the condition against the old item and
``Write.new_item`` computes the new one; ``execute`` does both for a single item under that item's
lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fakes3.dynamodb.errors import (
    conditional_check_failed,
    invalid_parameters,
    resource_not_found,
    validation,
)
from fakes3.dynamodb.expressions import (
    Condition,
    Context,
    Projection,
    Update,
    apply_update,
    evaluate,
    parse_condition,
    parse_update,
    project,
)
from fakes3.dynamodb.keys import check_index_keys, check_item_keys, check_key
from fakes3.dynamodb.legacy import Rewriter, check_styles
from fakes3.dynamodb.model import Database, LockKey, Table, WriteResult
from fakes3.dynamodb.storage import Item, PartitionKey, SortKey
from fakes3.dynamodb.types import check_item_size, validate_item

_KINDS = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}
# The parameters a write's expressions (or their legacy forms) and placeholders come from: with
# none of them sent, a write has nothing to parse or check.
_EXPRESSION_PARAMETERS = ("ConditionExpression", "Expected", "UpdateExpression", "AttributeUpdates",
                          "ExpressionAttributeNames", "ExpressionAttributeValues")
_EXPRESSION_SET = frozenset(_EXPRESSION_PARAMETERS)

RETURN_VALUES = {
    "PutItem": ("NONE", "ALL_OLD"),
    "DeleteItem": ("NONE", "ALL_OLD"),
    "UpdateItem": ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"),
}


@dataclass
class Write:
    table: Table
    kind: str  # Put, Update, Delete, ConditionCheck
    key: Item
    pkey: PartitionKey
    skey: SortKey
    item: Item | None = None
    update: Update | None = None
    condition: Condition | None = None
    ctx: Context | None = None
    return_values: str = "NONE"
    old_on_failure: bool = False
    sized: tuple[Item, int] | None = None  # an item this write computed the size of, and its size

    def size_of(self, new: Item | None) -> int | None:
        """``new``'s item size when this write already knows it (None: not known)."""
        sized = self.sized
        return sized[1] if sized is not None and new is not None and sized[0] is new else None

    @property
    def lock_key(self) -> LockKey:
        return self.table.name, self.pkey, self.skey

    def passes(self, old: Item | None) -> bool:
        return self.condition is None or evaluate(self.condition, old, self.ctx)

    def failure(self, old: Item | None) -> Exception:
        return conditional_check_failed(old if self.old_on_failure and old is not None else None)

    def new_item(self, old: Item | None) -> Item | None:
        """The item after this write (None: deleted). Raises ValidationException on a bad update."""
        if self.kind == "Put":
            return self.item
        if self.kind == "Delete":
            return None
        if self.kind == "ConditionCheck":
            return old
        if self.update is None:
            return old if old is not None else dict(self.key)
        new, _changed = apply_update(self.update, old if old is not None else dict(self.key), self.ctx,
                                     exists=old is not None)
        check_index_keys(self.table, new)
        self.sized = (new, check_item_size(new))
        return new

    def attributes(self, old: Item | None, new: Item | None) -> Item | None:
        """The Attributes member ReturnValues asks for (None: leave it out)."""
        mode = self.return_values
        if mode == "ALL_OLD":
            out = old
        elif mode == "ALL_NEW":
            out = new
        elif mode in ("UPDATED_OLD", "UPDATED_NEW") and self.update is not None:
            source = old if mode == "UPDATED_OLD" else new
            out = project(source, Projection(self.update.paths)) if source is not None else None
        else:
            out = None
        return out or None


def _condition(params: dict[str, Any], rewriter: Rewriter) -> str | None:
    if params.get("ConditionExpression") is not None:
        return params["ConditionExpression"]
    if params.get("Expected"):
        return rewriter.expected(params["Expected"], params.get("ConditionalOperator"))
    return None


def _return_values(operation: str, params: dict[str, Any]) -> str:
    mode = params.get("ReturnValues") or "NONE"
    if mode not in RETURN_VALUES.get(operation, ("NONE",)):
        raise validation("Return values set to invalid value")
    return mode


def lookup(db: Database, name: str) -> Table:
    with db.lock:
        return db.table(name)


def prepare(db: Database, operation: str, params: dict[str, Any], *, kind: str | None = None,
            in_transaction: bool = False) -> Write:
    """A write from one request (or one transaction action, or one batch request)."""
    kind = kind or _KINDS[operation]
    if not in_transaction and operation in _KINDS:
        check_styles(operation, params)
    condition = update = ctx = None
    # else: nothing to parse (isdisjoint first: the usual plain write names none of them)
    if not _EXPRESSION_SET.isdisjoint(params) and any(params.get(p) is not None
                                                     for p in _EXPRESSION_PARAMETERS):
        rewriter = Rewriter()
        condition_text = _condition(params, rewriter)
        update_text = params.get("UpdateExpression")
        if update_text is None and params.get("AttributeUpdates"):
            update_text = rewriter.updates(params["AttributeUpdates"])
        ctx = rewriter.context(params)
        condition = parse_condition(condition_text, ctx) if condition_text is not None else None
        update = parse_update(update_text, ctx) if update_text is not None else None
        ctx.check_unused()
    return_values = "NONE" if in_transaction else _return_values(operation, params)
    table = lookup(db, params["TableName"])
    item = None
    sized = None
    if kind == "Put":
        item = validate_item(params["Item"], "Item")
        check_item_keys(table, item)
        sized = (item, check_item_size(item))
        key = table.key_of(item)
    else:
        key = check_key(table, params["Key"])
    if update is not None:
        for path in update.paths:
            if path.head in table.keys.names:
                raise invalid_parameters(f"Cannot update attribute {path.head}. This attribute is part of "
                                         "the key")
    pkey, skey = table.locate(key)
    return Write(table, kind, key, pkey, skey, item=item, update=update, condition=condition, ctx=ctx,
                 return_values=return_values,
                 old_on_failure=params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD", sized=sized)


def read_old(db: Database, write: Write) -> Item | None:
    """The stored item (caller holds the item's lock); the table must still be the same table."""
    with db.lock:
        check_current(db, write.table)
        entry = write.table.get(write.pkey, write.skey)
        return entry.item if entry else None


def check_current(db: Database, table: Table) -> None:
    """ResourceNotFoundException if ``table`` was deleted (or re-created) since it was looked up;
    the caller holds ``db.lock``."""
    if db.table(table.name) is not table:
        raise resource_not_found()


def execute(db: Database, write: Write, operation: str) -> WriteResult:
    """Check and apply one write atomically with respect to every other writer of its item."""
    with db.item_locks.hold_one(write.lock_key):
        old = read_old(db, write)
        if not write.passes(old):
            raise write.failure(old)
        new = write.new_item(old)
        if db.fault_hook is not None:
            db.fault_hook(operation, write.table.name, write.key)
        with db.lock:
            check_current(db, write.table)
            return write.table.write(write.pkey, write.skey, new, write.size_of(new))
