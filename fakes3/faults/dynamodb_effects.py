"""Faults that change what later DynamoDB reads see: eventually consistent reads.

After a write matched by a ``stale_read`` rule, the next K eventually consistent GetItem calls
(ConsistentRead absent or false) for that item return the item as it was before the write — as a
replica that has not caught up would. Strongly consistent reads always see the latest item.
"""

from __future__ import annotations

import threading
from typing import Any

from fakes3.context import RequestContext
from fakes3.faults import actions as A
from fakes3.faults.lag import Lag
from fakes3.faults.rules import Call
from fakes3.faults.wiring import canonical_key

WRITES = ("PutItem", "UpdateItem", "DeleteItem")


class DynamoDBEffects:
    def __init__(self, service: Any) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._stale: dict[tuple[str, str], Lag] = {}

    def reset(self) -> None:
        with self._lock:
            self._stale.clear()

    def idle(self, operation: str) -> bool:
        """Whether a call no action applies to has nothing to do here: only an eventually
        consistent GetItem may, while some items read stale."""
        return not (self._stale and operation == "GetItem")

    def before(self, call: Call, actions: list[A.Action],
               params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        if call.operation not in WRITES or not any(isinstance(a, A.StaleRead) for a in actions):
            return params, None
        key = self._key(params)
        if key is None:
            return params, None
        ctx = RequestContext(request_id="fakes3-fault-snapshot")
        got = self.service.handle("GetItem", {"TableName": params["TableName"], "Key": key,
                                              "ConsistentRead": True}, ctx)
        return params, (key, got.get("Item"))

    def after(self, call: Call, actions: list[A.Action], params: dict[str, Any],
              result: dict[str, Any], memo: Any) -> dict[str, Any]:
        if memo is not None:
            key, before = memo
            action = next(a for a in actions if isinstance(a, A.StaleRead))
            with self._lock:
                self._stale[(params["TableName"], _canonical(key))] = Lag(before, action.reads,
                                                                           action.seconds)
        if call.operation == "GetItem" and not params.get("ConsistentRead"):
            slot = (params.get("TableName", ""), _canonical(params.get("Key") or {}))
            with self._lock:
                stale = self._stale.get(slot)
                seen = stale is not None and stale.use()
                if stale is not None and stale.spent:
                    del self._stale[slot]
            if stale is not None and seen:
                result = {k: v for k, v in result.items() if k != "Item"}
                if stale.before is not None:
                    result["Item"] = stale.before
        return result

    def done(self, call: Call) -> None:
        pass

    def _key(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if "Key" in params:
            return dict(params["Key"])
        item = params.get("Item")
        if item is None:
            return None
        ctx = RequestContext(request_id="fakes3-fault-snapshot")
        table = self.service.handle("DescribeTable", {"TableName": params["TableName"]}, ctx)["Table"]
        names = [k["AttributeName"] for k in table["KeySchema"]]
        return {name: item[name] for name in names if name in item}


def _canonical(key: dict[str, Any]) -> str:
    return canonical_key(key)
