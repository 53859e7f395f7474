"""Faults: one seam, deterministic and journaled.

    with FakeAWS() as aws:
        with aws.faults.add(error(503, "SlowDown"), operation="PutObject", times=2):
            ...                                  # the first two PUTs get 503 SlowDown
        hold = aws.faults.holds["h"]             # a named pause point
        aws.faults.add(hold_action("h"), operation="DeleteObject")

Modules: ``actions`` (what a fault does), ``rules`` (which calls it applies to), ``holds`` (pause
points), ``journal`` (the history of requests), ``controller`` (the seam), ``profiles``.
"""

from __future__ import annotations

from fakes3.faults.actions import (
    Action,
    RuleError,
    action_from_json,
    ambiguous,
    clock_skew,
    endpoint,
    error,
    ignore_conditions,
    latency,
    list_lag,
    split_check_act,
    stale_read,
    torn_put,
)
from fakes3.faults.actions import hold as hold_action
from fakes3.faults.controller import DropConnection, FaultController
from fakes3.faults.holds import Hold, HoldTimeout
from fakes3.faults.journal import Entry, Journal
from fakes3.faults.rules import Call, Rule, rule_from_json

__all__ = [
    "Action", "Call", "DropConnection", "Entry", "FaultController", "Hold", "HoldTimeout", "Journal",
    "Rule", "RuleError", "action_from_json", "ambiguous", "clock_skew", "endpoint", "error",
    "hold_action", "ignore_conditions", "latency", "list_lag", "rule_from_json", "split_check_act",
    "stale_read", "torn_put",
]
