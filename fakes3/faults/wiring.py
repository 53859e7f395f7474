"""What the seam needs to know of each service: how to name a call, how to raise its errors."""

from __future__ import annotations

import json
import time
from typing import Any

from fakes3.errors import AWSError, S3Error
from fakes3.faults.rules import Call

_new_call = tuple.__new__  # Call(...) without its Python-level __new__: this runs per request


def describe_s3_call(operation: str, params: dict[str, Any]) -> Call:
    return _new_call(Call, ("s3", operation, params.get("Bucket") or None, params.get("Key") or None,
                            None))


def s3_error(code: str, message: str, status: int) -> AWSError:
    return S3Error(code, message, status)


def endpoint_faults(controller: Any, service_name: str, service: Any, store: Any) -> None:
    """Let fault rules for ``service_name`` ("imds" or "ecs") act on a credential endpoint:
    ``endpoint`` actions answer 500, are slow, drop the connection ("down"), or expire the
    credentials vended so far (S3 then refuses them with ExpiredToken; fresh ones are vended).
    Each request is journaled like any other."""
    from fakes3.faults import actions as A
    from fakes3.faults.controller import DropConnection

    def before_request(request: Any) -> Any:
        call = Call(service_name, f"{request.method} {request.path}")
        entry = controller.journal.begin("", service_name, call.operation)
        fired = controller.decide(call)
        entry.faults = [f"{rule.id}:{action.type}" for rule, action in fired]
        status = 200
        try:
            for _, action in fired:
                if isinstance(action, A.Latency | A.Endpoint) and getattr(action, "mode", "slow") == "slow":
                    time.sleep(action.seconds)
                elif isinstance(action, A.Hold):
                    controller.holds[action.name].pause(action.timeout)
                elif isinstance(action, A.Endpoint) and action.mode == "down":
                    status = 0
                    raise DropConnection()
                elif isinstance(action, A.Endpoint) and action.mode == "expired":
                    _expire_vended(service, store)
                elif isinstance(action, A.Endpoint | A.Error):
                    status = getattr(action, "status", 500)
                    body = b"<html><body><h1>500 - Internal Server Error</h1></body></html>"
                    return status, [("Content-Type", "text/html")], body
            return None
        finally:
            controller.journal.end(entry, status, "ConnectionDropped" if status == 0 else None)

    service.before_request = before_request


def _expire_vended(service: Any, store: Any) -> None:
    caches = [getattr(service, name, None) for name in ("credentials", "v1_credentials")]
    for cache in filter(None, caches):
        vended = cache.peek()
        if vended is not None:
            store.expire(vended.credential.access_key)
            cache.rotate()


# json.dumps(key, sort_keys=True, default=str), without making an encoder per call.
canonical_key = json.JSONEncoder(sort_keys=True, default=str).encode


def describe_dynamodb_call(operation: str, params: dict[str, Any]) -> Call:
    key = params.get("Key")
    return _new_call(Call, ("dynamodb", operation, None, canonical_key(key) if key else None,
                            params.get("TableName") or None))


# DynamoDB's name and namespace for the errors a fault rule is likely to ask for.
_DYNAMODB_NAMESPACES = {"ThrottlingException": "com.amazon.coral.availability",
                        "ServiceUnavailable": "com.amazon.coral.availability"}


def dynamodb_error(code: str, message: str, status: int) -> AWSError:
    from fakes3.dynamodb.errors import DYNAMODB, DynamoDBError

    if code == "InternalError":  # S3's name for it; DynamoDB says InternalServerError
        code = "InternalServerError"
    return DynamoDBError(code, message, status, namespace=_DYNAMODB_NAMESPACES.get(code, DYNAMODB))
