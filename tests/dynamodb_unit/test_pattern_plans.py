"""Request plans for operations whose model patterns are Java-only (\\p{Print}, surrogate pairs)
agree with the generic walk, as ``test_fast_paths`` holds for the common operations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes3.protocol.json_protocol import _parse_generic, _plan, parse_request

from .test_fast_paths import MODEL, SETTINGS, outcome, request_body, strict


@pytest.mark.parametrize("operation", ["UpdateTableReplicaAutoScaling", "UpdateGlobalTableSettings"])
@SETTINGS
@given(data=st.data())
def test_java_pattern_plans_agree_with_the_generic_walk(operation: str, data: Any) -> None:
    op = MODEL.operation_model(operation)
    body = data.draw(request_body(op.input_shape))
    if not isinstance(body, dict):
        return
    try:
        fast: Any = ("ok", strict(_plan(op.input_shape, {})(body)))
    except Exception:
        fast = None  # refused: parse_request answers with the generic walk
    generic = outcome(lambda: _parse_generic(op.input_shape, body))
    assert generic[0] != "crash"
    if fast is not None:
        assert fast == generic
    assert outcome(lambda: parse_request(op, json.dumps(body).encode())) == generic


def test_a_printable_policy_name_takes_the_plan() -> None:
    op = MODEL.operation_model("UpdateTableReplicaAutoScaling")
    body = {"TableName": "tbl", "ProvisionedWriteCapacityAutoScalingUpdate": {
        "AutoScalingRoleArn": "arn:aws:iam::1:role/r\U0001F600",
        "ScalingPolicyUpdate": {"PolicyName": "p ~1", "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 70.0}}}}
    assert _plan(op.input_shape, {})(body) == body
