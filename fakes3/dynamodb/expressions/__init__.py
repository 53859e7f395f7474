"""DynamoDB's expression languages: condition/filter/key-condition, update and projection.

    ctx = Context(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
    cond = parse_condition(params["ConditionExpression"], ctx)
    update = parse_update(params["UpdateExpression"], ctx)
    ctx.check_unused()                      # after every expression of the request is parsed
    if not evaluate(cond, old_item, ctx): raise conditional_check_failed()
    new_item, changed = apply_update(update, old_item or key, ctx, exists=old_item is not None)
"""

from fakes3.dynamodb.expressions.apply import apply_update
from fakes3.dynamodb.expressions.ast import Condition, Path, Projection, Update, operand_paths
from fakes3.dynamodb.expressions.context import Context
from fakes3.dynamodb.expressions.evaluate import evaluate, resolve
from fakes3.dynamodb.expressions.keycondition import KeyCondition, key_condition
from fakes3.dynamodb.expressions.parser import parse_condition
from fakes3.dynamodb.expressions.projection import parse_projection, project
from fakes3.dynamodb.expressions.reserved import RESERVED_WORDS, is_reserved
from fakes3.dynamodb.expressions.update import parse_update

__all__ = [
    "RESERVED_WORDS",
    "Condition",
    "Context",
    "KeyCondition",
    "Path",
    "Projection",
    "Update",
    "apply_update",
    "evaluate",
    "is_reserved",
    "key_condition",
    "operand_paths",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "project",
    "resolve",
]
