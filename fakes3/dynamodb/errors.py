"""DynamoDB's errors: a ``__type`` naming the exception, a message, an HTTP status.

The JSON protocol serializes them as ``{"__type": "<namespace>#<Name>", "message": ...}``;
botocore reads the part after ``#`` as the error code.
"""

from __future__ import annotations

from typing import Any

from fakes3.protocol.json_protocol import CORAL_VALIDATE, JsonError

DYNAMODB = "com.amazonaws.dynamodb.v20120810"


class DynamoDBError(JsonError):
    """An error in DynamoDB's wire shape, in DynamoDB's namespace unless told otherwise; ``extra``
    holds members such as CancellationReasons."""

    def __init__(self, name: str, message: str, status: int = 400, *, namespace: str = DYNAMODB,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(name, message, status, namespace=namespace, extra=extra)


def validation(message: str) -> DynamoDBError:
    return DynamoDBError("ValidationException", message, namespace=CORAL_VALIDATE)


def resource_not_found(message: str = "Requested resource not found") -> DynamoDBError:
    return DynamoDBError("ResourceNotFoundException", message)


def conditional_check_failed(item: dict[str, Any] | None = None) -> DynamoDBError:
    extra = {"Item": item} if item is not None else None
    return DynamoDBError("ConditionalCheckFailedException", "The conditional request failed", extra=extra)


def invalid_parameters(detail: str) -> DynamoDBError:
    """``One or more parameter values were invalid: <detail>``, DynamoDB's usual prefix."""
    return validation(f"One or more parameter values were invalid: {detail}")


def key_mismatch() -> DynamoDBError:
    return validation("The provided key element does not match the schema")


def table_not_found(name: str | None = None) -> DynamoDBError:
    """Item operations say only "Requested resource not found"; table operations name the table."""
    if name is None:
        return resource_not_found()
    return resource_not_found(f"Requested resource not found: Table: {name} not found")


def resource_in_use(message: str) -> DynamoDBError:
    return DynamoDBError("ResourceInUseException", message)


def limit_exceeded(message: str) -> DynamoDBError:
    return DynamoDBError("LimitExceededException", message)
