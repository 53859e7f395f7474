"""What a fault does, once its rule has matched a call.

Each action is a small frozen dataclass with a ``type`` (its name in JSON) and a ``phase``: where
on the request path it acts. ``before`` acts before the operation runs, ``between`` between a
write's condition check and its act (inside the model, under the key's lock), ``after`` once the
operation has been applied and before the response leaves, and ``read`` on later reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

PHASES = ("before", "between", "after")


class RuleError(ValueError):
    """An invalid rule: ``field`` names the part of the JSON that is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Action:
    type: ClassVar[str] = ""
    phase: str = "before"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class Error(Action):
    """Answer with an AWS error instead of running the operation (nothing is applied)."""

    type: ClassVar[str] = "error"
    status: int = 500
    code: str = "InternalError"
    message: str = "We encountered an internal error. Please try again."


@dataclass(frozen=True)
class Ambiguous(Action):
    """Apply the operation, then fail: a 500, a dropped connection, or a response held ``seconds``
    (past the client's timeout). The client cannot tell whether its write happened."""

    type: ClassVar[str] = "ambiguous"
    phase: str = "after"
    mode: str = "500"  # "500" | "drop" | "timeout"
    seconds: float = 0.0


@dataclass(frozen=True)
class Latency(Action):
    type: ClassVar[str] = "latency"
    seconds: float = 0.1


@dataclass(frozen=True)
class Hold(Action):
    """Stop the request at ``phase`` until the test releases the hold called ``name``."""

    type: ClassVar[str] = "hold"
    name: str = "hold"
    timeout: float = 300.0  # a forgotten hold lets go eventually, so no test hangs for ever


@dataclass(frozen=True)
class IgnoreConditions(Action):
    """If-Match / If-None-Match silently dropped (``respond="ignore"``) or refused with 501
    NotImplemented, as S3 did before it supported conditional writes (``respond="501"``)."""

    type: ClassVar[str] = "ignore_conditions"
    respond: str = "ignore"


@dataclass(frozen=True)
class SplitCheckAct(Action):
    """A conditional write checks its condition, lets go of the key, then writes: other requests
    may run in between (wait on ``hold`` if named, then ``seconds``)."""

    type: ClassVar[str] = "split_check_act"
    phase: str = "between"
    hold: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class TornPut(Action):
    """While the PUT is in flight, readers of its key see a prefix of the new body, zero bytes,
    or no object at all."""

    type: ClassVar[str] = "torn_put"
    visible: str = "prefix"  # "prefix" | "empty" | "missing"


@dataclass(frozen=True)
class StaleRead(Action):
    """After the matching write, the next ``reads`` GET/HEAD of the key see the state before it
    (the previous version, a 404 after a create, the old object after a delete); or, with
    ``seconds``, every read for that long (wall time)."""

    type: ClassVar[str] = "stale_read"
    phase: str = "after"
    reads: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class ListLag(Action):
    """After the matching write, the next ``listings`` LISTs (or, with ``seconds``, every LIST
    for that long) still show the key as it was."""

    type: ClassVar[str] = "list_lag"
    phase: str = "after"
    listings: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class ClockSkew(Action):
    """The request sees the server's clock offset by ``seconds`` (Date, LastModified)."""

    type: ClassVar[str] = "clock_skew"
    seconds: float = 0.0


@dataclass(frozen=True)
class Endpoint(Action):
    """For IMDS / ECS (match service "imds" or "ecs"): the endpoint answers 500, is slow,
    is down (the connection closes unanswered), or the credentials it vended expire now."""

    type: ClassVar[str] = "endpoint"
    mode: str = "500"  # "500" | "slow" | "down" | "expired"
    seconds: float = 0.0


ACTIONS: dict[str, type[Action]] = {cls.type: cls for cls in (
    Error, Ambiguous, Latency, Hold, IgnoreConditions, SplitCheckAct, TornPut, StaleRead, ListLag,
    ClockSkew, Endpoint)}

_CHOICES = {
    ("ambiguous", "mode"): ("500", "drop", "timeout"),
    ("ignore_conditions", "respond"): ("ignore", "501"),
    ("torn_put", "visible"): ("prefix", "empty", "missing"),
    ("endpoint", "mode"): ("500", "slow", "down", "expired"),
}
_FIXED_PHASE = {"ambiguous": "after", "split_check_act": "between", "stale_read": "after",
                "list_lag": "after", "torn_put": "before", "ignore_conditions": "before",
                "error": "before", "clock_skew": "before", "endpoint": "before"}


def action_from_json(data: Any) -> Action:
    if not isinstance(data, dict):
        raise RuleError("action", "must be an object with a \"type\"")
    kind = data.get("type")
    cls = ACTIONS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise RuleError("action.type", f"must be one of {', '.join(sorted(ACTIONS))}, not {kind!r}")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "type":
            continue
        if name not in known:
            raise RuleError(f"action.{name}", f"is not a field of a {kind} action "
                            f"(fields: {', '.join(sorted(known))})")
        values[name] = _coerce(f"action.{name}", value, known[name].type)
    action = cls(**values)
    _validate(action)
    return action


def _coerce(where: str, value: Any, annotation: Any) -> Any:
    text = str(annotation)
    if "float" in text and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if text in ("int",) and isinstance(value, int) and not isinstance(value, bool):
        return value
    if "str" in text and (isinstance(value, str) or (value is None and "None" in text)):
        return value
    raise RuleError(where, f"has the wrong type: {value!r} (expected {text})")


def _validate(action: Action) -> None:
    fixed = _FIXED_PHASE.get(action.type)
    if fixed is not None and action.phase != fixed:
        raise RuleError("action.phase", f"a {action.type} action acts {fixed!r}, not {action.phase!r}")
    if action.phase not in PHASES:
        raise RuleError("action.phase", f"must be one of {', '.join(PHASES)}, not {action.phase!r}")
    for (kind, name), choices in _CHOICES.items():
        if action.type == kind and getattr(action, name) not in choices:
            raise RuleError(f"action.{name}", f"must be one of {', '.join(choices)}, "
                            f"not {getattr(action, name)!r}")
    for name in ("seconds", "timeout"):
        if getattr(action, name, 0) < 0:
            raise RuleError(f"action.{name}", "must not be negative")
    if isinstance(action, Error) and not 400 <= action.status <= 599:
        raise RuleError("action.status", f"must be an HTTP error status 400-599, not {action.status}")
    for name in ("reads", "listings"):
        if getattr(action, name, 1) < 1:
            raise RuleError(f"action.{name}", "must be at least 1")


# Short constructors for Python users: faults.add(error(503, "SlowDown"), operation="PutObject")
def error(status: int = 500, code: str = "InternalError", message: str | None = None) -> Error:
    return Error(status=status, code=code, message=message or f"fakes3 fault: {code}")


def ambiguous(mode: str = "500", seconds: float = 0.0) -> Ambiguous:
    action = Ambiguous(mode=mode, seconds=seconds)
    _validate(action)
    return action


def latency(seconds: float, phase: str = "before") -> Latency:
    action = Latency(phase=phase, seconds=seconds)
    _validate(action)
    return action


def hold(name: str, phase: str = "before", timeout: float = 300.0) -> Hold:
    action = Hold(phase=phase, name=name, timeout=timeout)
    _validate(action)
    return action


def ignore_conditions(respond: str = "ignore") -> IgnoreConditions:
    action = IgnoreConditions(respond=respond)
    _validate(action)
    return action


def split_check_act(hold: str | None = None, seconds: float = 0.0) -> SplitCheckAct:
    return SplitCheckAct(hold=hold, seconds=seconds)


def torn_put(visible: str = "prefix") -> TornPut:
    action = TornPut(visible=visible)
    _validate(action)
    return action


def stale_read(reads: int = 1, seconds: float = 0.0) -> StaleRead:
    action = StaleRead(reads=reads, seconds=seconds)
    _validate(action)
    return action


def list_lag(listings: int = 1, seconds: float = 0.0) -> ListLag:
    action = ListLag(listings=listings, seconds=seconds)
    _validate(action)
    return action


def clock_skew(seconds: float) -> ClockSkew:
    return ClockSkew(seconds=seconds)


def endpoint(mode: str = "500", seconds: float = 0.0) -> Endpoint:
    action = Endpoint(mode=mode, seconds=seconds)
    _validate(action)
    return action

