"""Rules: which calls a fault applies to (match) and which of those (schedule).

A call is matched on service, operation, bucket, key (a glob), table; the schedule then picks
among the matching calls by their 1-based index: every one, the ``nth``, the first ``times``,
or each with a ``probability`` drawn from a generator seeded with ``seed``. Counting is per
rule, so the same seed and the same sequence of requests give the same decisions.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fakes3.faults.actions import Action, RuleError, action_from_json

_ids = itertools.count(1)


class Call(NamedTuple):
    """What a rule can see of a request (immutable; a named tuple, cheap to make per request)."""

    service: str
    operation: str
    bucket: str | None = None
    key: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class Match:
    service: str | None = None
    operations: frozenset[str] | None = None
    bucket: str | None = None
    key: str | None = None  # glob
    table: str | None = None

    def could_match(self, service: str, operation: str) -> bool:
        """Whether some call of ``operation`` on ``service`` matches (bucket, key, table aside)."""
        return ((self.service is None or self.service == service)
                and (self.operations is None or operation in self.operations))

    def matches(self, call: Call) -> bool:
        return (
            (self.service is None or self.service == call.service)
            and (self.operations is None or call.operation in self.operations)
            and _glob(call.bucket, self.bucket) and _glob(call.key, self.key)
            and _glob(call.table, self.table)
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in (("service", self.service), ("bucket", self.bucket),
                                                  ("key", self.key), ("table", self.table)) if v}
        if self.operations is not None:
            out["operations"] = sorted(self.operations)
        return out


def _glob(value: str | None, pattern: str | None) -> bool:
    return pattern is None or (value is not None and fnmatch.fnmatchcase(value, pattern))


@dataclass
class Rule:
    action: Action
    match: Match = field(default_factory=Match)
    nth: int | None = None
    times: int | None = None
    probability: float | None = None
    seed: int = 0
    id: str = field(default_factory=lambda: f"rule-{next(_ids)}")
    matched: int = 0  # matching calls seen so far
    applied: int = 0  # times the action was applied

    def __post_init__(self) -> None:
        _check_schedule(self.nth, self.times, self.probability)
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)
        self.owner: Any = None  # the controller it was added to
        self.from_profile = False  # installed by a profile: survives clear()

    def remove(self) -> bool:
        """Take this rule out of its controller (``with faults.add(...):`` does it on exit)."""
        return bool(self.owner is not None and self.owner.remove(self))

    def __enter__(self) -> Rule:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def decide(self, call: Call, chooser: Any = None) -> bool:
        """Count the call if it matches; whether the action applies to it."""
        if not self.match.matches(call):
            return False
        with self._lock:
            self.matched += 1
            index = self.matched
            chosen = chooser(self, call, index) if chooser is not None else None
            fire = bool(chosen) if chosen is not None else self._scheduled(index)
            if fire:
                self.applied += 1
            return fire

    def _scheduled(self, index: int) -> bool:
        if self.nth is not None:
            return index == self.nth
        if self.probability is not None:
            drawn = self._random.random() < self.probability
            return drawn and (self.times is None or self.applied < self.times)
        if self.times is not None:
            return index <= self.times
        return True

    def to_json(self) -> dict[str, Any]:
        when: dict[str, Any] = {k: v for k, v in (("nth", self.nth), ("times", self.times),
                                                  ("probability", self.probability)) if v is not None}
        if self.probability is not None:
            when["seed"] = self.seed
        return {"id": self.id, "match": self.match.to_json(), "when": when,
                "action": self.action.to_json(), "matched": self.matched, "applied": self.applied}


def _check_schedule(nth: Any, times: Any, probability: Any) -> None:
    for name, value in (("nth", nth), ("times", times)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise RuleError(f"when.{name}", f"must be a whole number of at least 1, not {value!r}")
    if nth is not None and (times is not None or probability is not None):
        raise RuleError("when", "give nth alone: it already picks exactly one call")
    if probability is not None and (not isinstance(probability, (int, float)) or not 0 <= probability <= 1):
        raise RuleError("when.probability", f"must be a number from 0 to 1, not {probability!r}")


def make_match(service: str | None = None, operation: str | list[str] | None = None,
               bucket: str | None = None, key: str | None = None, table: str | None = None) -> Match:
    operations = None
    if operation is not None:
        operations = frozenset([operation] if isinstance(operation, str) else operation)
    return Match(service, operations, bucket, key, table)


_MATCH_FIELDS = {"service", "operation", "operations", "bucket", "key", "table"}
_WHEN_FIELDS = {"nth", "times", "probability", "seed"}


def rule_from_json(data: Any) -> Rule:
    """A rule from its JSON form: ``{"match": {...}, "when": {...}, "action": {...}}``."""
    if not isinstance(data, dict):
        raise RuleError("rule", "must be a JSON object with \"action\" (and optionally \"match\", \"when\")")
    unknown = set(data) - {"match", "when", "action", "id"}
    if unknown:
        raise RuleError(sorted(unknown)[0], "is not part of a rule (use match, when, action, id)")
    match = data.get("match") or {}
    when = data.get("when") or {}
    for name, value, allowed in (("match", match, _MATCH_FIELDS), ("when", when, _WHEN_FIELDS)):
        if not isinstance(value, dict):
            raise RuleError(name, "must be a JSON object")
        for key in value:
            if key not in allowed:
                raise RuleError(f"{name}.{key}",
                                f"is not a field of {name} (fields: {', '.join(sorted(allowed))})")
        for key, item in value.items():
            ok = isinstance(item, (str, int, float)) or (key == "operations" and isinstance(item, list))
            if not ok or isinstance(item, bool):
                raise RuleError(f"{name}.{key}", f"has the wrong type: {item!r}")
    operation = match.get("operations", match.get("operation"))
    if operation is not None and not isinstance(operation, (str, list)):
        raise RuleError("match.operation", "must be an operation name or a list of them")
    if "action" not in data:
        raise RuleError("action", "is required")
    rule = Rule(
        action=action_from_json(data["action"]),
        match=make_match(match.get("service"), operation, match.get("bucket"), match.get("key"),
                         match.get("table")),
        nth=when.get("nth"), times=when.get("times"), probability=when.get("probability"),
        seed=int(when.get("seed", 0)),
    )
    if data.get("id"):
        rule.id = str(data["id"])
    return rule
