"""The fault controller: the rules of one fake, deciding per call, and the seam that applies them.

``seam(service, handler)`` wraps an operation handler (boto3-shaped params in, result out) — the
one choke point between protocol and semantics — so every client in every language sees the
same faults, and every request is journaled there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fakes3.context import RequestContext
from fakes3.errors import AWSError
from fakes3.faults import actions as A
from fakes3.faults.holds import Holds
from fakes3.faults.journal import Entry, Journal
from fakes3.faults.profiles import profile_rules
from fakes3.faults.rules import Call, Rule, make_match, rule_from_json

Handler = Callable[[str, dict[str, Any], RequestContext], dict[str, Any]]
# (service, code, message, status) -> the service's own error exception
ErrorFactory = Callable[[str, str, int], AWSError]
# (rule, call, index) -> True / False to decide, None to follow the rule's own schedule
Chooser = Callable[[Rule, Call, int], bool | None]

CONDITION_PARAMS = ("IfMatch", "IfNoneMatch")
# (service, operation) pairs whose candidate rules are remembered, per snapshot of the rules.
MAX_INDEXED = 4096

ActionT = TypeVar("ActionT", bound=A.Action)


class Effects(Protocol):
    """Service-specific fault effects around an operation (see ``s3_effects``)."""

    def idle(self, operation: str) -> bool:
        """Whether a call of ``operation`` to which no action applies may skip ``before``,
        ``after`` and ``done`` (they would change nothing): the seam's fast path asks first."""
        ...

    def before(self, call: Call, actions: list[A.Action],
               params: dict[str, Any]) -> tuple[dict[str, Any], Any]: ...

    def after(self, call: Call, actions: list[A.Action], params: dict[str, Any],
              result: dict[str, Any], memo: Any) -> dict[str, Any]: ...

    def done(self, call: Call) -> None: ...

    def reset(self) -> None: ...


class DropConnection(BaseException):  # noqa: N818 - not an error: an instruction to the server
    """Raised through the WSGI app: the server closes the connection without a response.

    A BaseException, so the gateway's catch-all (which turns bugs into 500s) lets it through."""


@dataclasses.dataclass
class Fired:
    """The actions applied to the call in progress on this thread."""

    call: Call
    actions: list[tuple[Rule, A.Action]]

    def of(self, kind: type[ActionT], phase: str | None = None) -> list[ActionT]:
        return [a for _, a in self.actions if isinstance(a, kind) and (phase is None or a.phase == phase)]


class FaultController:
    def __init__(self, *, profile: str = "aws", journal_size: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        # The rules as one snapshot, with the ones each (service, operation) could match: replaced
        # (never changed in place) whenever the rules change, so a request reads a consistent pair.
        self._view: tuple[tuple[Rule, ...], dict[tuple[str, str], tuple[Rule, ...]]] = ((), {})
        # Calls in progress that some action applies to: ``between`` has nothing to do while 0.
        self._firing = 0
        self.profile = "aws"
        self.holds = Holds()
        self.journal = Journal(journal_size)
        self.chooser: Chooser | None = None
        self._local = threading.local()
        # Faults that need a service's state (torn PUTs, stale reads, lagging listings).
        self.effects: dict[str, Effects] = {}
        self.use_profile(profile)

    # -- rules ----------------------------------------------------------------------------------

    def add(self, action: A.Action | dict[str, Any], *, service: str | None = None,
            operation: str | list[str] | None = None, bucket: str | None = None, key: str | None = None,
            table: str | None = None, nth: int | None = None, times: int | None = None,
            probability: float | None = None, seed: int = 0) -> Rule:
        """Add a rule; the returned Rule can be ``remove()``d, or used as a context manager."""
        if isinstance(action, dict):
            action = A.action_from_json(action)
        rule = Rule(action, make_match(service, operation, bucket, key, table), nth=nth, times=times,
                    probability=probability, seed=seed)
        return self._install(rule)

    def add_json(self, data: Any) -> list[Rule]:
        """Rules from JSON: one rule object or a list of them (all validated before any is added)."""
        rules = [rule_from_json(item) for item in (data if isinstance(data, list) else [data])]
        return [self._install(rule) for rule in rules]

    def _install(self, rule: Rule) -> Rule:
        rule.owner = self
        with self._lock:
            if any(r.id == rule.id for r in self._rules):
                raise A.RuleError("id", f"a rule with id {rule.id!r} exists already")
            self._rules.append(rule)
            self._changed()
        return rule

    def remove(self, rule: Rule | str) -> bool:
        rule_id = rule if isinstance(rule, str) else rule.id
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            self._changed()
            return len(self._rules) != before

    def _changed(self) -> None:
        """A new snapshot of the rules, with an empty index (caller holds ``_lock``)."""
        self._view = (tuple(self._rules), {})

    def candidates(self, service: str, operation: str) -> tuple[Rule, ...]:
        """The rules, in order, that could match a call of ``operation`` on ``service`` (their
        bucket, key and table still to be matched); computed once per snapshot of the rules."""
        rules, index = self._view
        if not rules:
            return ()
        found = index.get((service, operation))
        if found is None:
            found = tuple(r for r in rules if r.match.could_match(service, operation))
            if len(index) < MAX_INDEXED:  # operation names are a small set, but IMDS paths are not
                index[(service, operation)] = found
        return found

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        """Remove every rule but the profile's, release every hold, forget lingering effects
        (stale reads, lagging listings); the journal is kept."""
        with self._lock:
            self._rules = []
            self._changed()
        self.holds.clear()
        for effects in self.effects.values():
            effects.reset()
        self.use_profile(self.profile)

    def use_profile(self, name: str) -> None:
        """Replace the profile's rules (``aws``, ``aws-2019``, ``s3-compatible-weak``)."""
        rules = profile_rules(name)
        with self._lock:
            self._rules = [r for r in self._rules if not r.from_profile]
            self._changed()
        self.profile = name
        for rule in rules:
            rule.from_profile = True
            self._install(rule)

    def decide(self, call: Call) -> list[tuple[Rule, A.Action]]:
        candidates = self.candidates(call.service, call.operation)
        if not candidates:
            return []
        return [(r, r.action) for r in candidates if r.decide(call, self.chooser)]

    # -- the seam -------------------------------------------------------------------------------

    def seam(self, service: str, handler: Handler, describe: Callable[[str, dict[str, Any]], Call],
             make_error: ErrorFactory, success_status: Callable[[str, dict[str, Any]], int]) -> Handler:
        begin = self.journal.begin

        def wrapped(operation: str, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
            call = describe(operation, params)
            entry = begin(ctx.request_id, service, operation, ctx.connection, ctx.access_key,
                          call.bucket, call.key, call.table)
            fired = self.decide(call) if self._view[0] else None
            effects = self.effects.get(service)
            if fired or (effects is not None and not effects.idle(operation)):
                return self._run(service, handler, make_error, success_status, operation, params, ctx,
                                 call, entry, fired or [], effects)
            # The fast path: no action applies, and no lingering effect concerns this call.
            try:
                result = handler(operation, params, ctx)
            except BaseException as exc:
                _journal_failure(entry, exc)
                raise
            _journal_success(entry, result, success_status(operation, result))
            return result

        return wrapped

    def _run(self, service: str, handler: Handler, make_error: ErrorFactory,
             success_status: Callable[[str, dict[str, Any]], int], operation: str,
             params: dict[str, Any], ctx: RequestContext, call: Call, entry: Entry,
             decided: list[tuple[Rule, A.Action]], effects: Effects | None) -> dict[str, Any]:
        """The seam for a call some action applies to (or that a lingering effect concerns)."""
        fired = Fired(call, decided)
        entry.faults = [f"{rule.id}:{action.type}" for rule, action in decided]
        actions = [action for _, action in decided]
        self._local.fired = fired
        if decided:
            with self._lock:
                self._firing += 1
        try:
            params = self._before(fired, params, ctx, make_error)
            memo = None
            if effects is not None:
                params, memo = effects.before(call, actions, params)
            result = handler(operation, params, ctx)
            if effects is not None:
                result = effects.after(call, actions, params, result, memo)
            self._after(fired, make_error)
        except BaseException as exc:
            _journal_failure(entry, exc)
            raise
        finally:
            self._local.fired = None
            if decided:
                with self._lock:
                    self._firing -= 1
            if effects is not None:
                effects.done(call)
        _journal_success(entry, result, success_status(operation, result))
        return result

    def current(self) -> Fired | None:
        """The faults applied to the call this thread is running, if any."""
        return getattr(self._local, "fired", None)

    def _before(self, fired: Fired, params: dict[str, Any], ctx: RequestContext,
                make_error: ErrorFactory) -> dict[str, Any]:
        for skew in fired.of(A.ClockSkew):
            ctx.now = ctx.now + dt.timedelta(seconds=skew.seconds)
        self._wait(fired, "before")
        for error in fired.of(A.Error):
            raise make_error(error.code, error.message, error.status)
        for action in fired.of(A.IgnoreConditions):
            present = [p for p in CONDITION_PARAMS if params.get(p) is not None]
            if present and action.respond == "501":
                raise make_error("NotImplemented", "A header you provided implies functionality that "
                                 "is not implemented (conditional requests, refused by this fault).", 501)
            if present:
                params = {k: v for k, v in params.items() if k not in CONDITION_PARAMS}
        return params

    def between(self, key_lock: threading.Lock | None = None) -> None:
        """The model's hook between a write's check and its act, holding the key's lock.

        A split-check-act fault lets go of the lock while it waits, so other writers of the key
        run between this write's check and its act, as on stores whose conditional writes are
        not atomic."""
        if not self._firing:  # no call anywhere has an action: nor has this one
            return
        fired = self.current()
        if fired is None:
            return
        split = fired.of(A.SplitCheckAct)
        if split and key_lock is not None:
            key_lock.release()
        try:
            for action in split:
                if action.hold:
                    self.holds[action.hold].pause(300.0)
                time.sleep(action.seconds)
            self._wait(fired, "between")
        finally:
            if split and key_lock is not None:
                key_lock.acquire()

    def model_hook(self, operation: str, bucket: str, key: str, key_lock: threading.Lock) -> None:
        """``between`` as the S3 model's fault hook (``S3Service.fault_hook``), in one call."""
        if self._firing:
            self.between(key_lock)

    def _after(self, fired: Fired, make_error: ErrorFactory) -> None:
        self._wait(fired, "after")
        for action in fired.of(A.Ambiguous):
            if action.mode == "drop":
                raise DropConnection()
            if action.mode == "timeout":
                time.sleep(action.seconds)
            else:
                raise make_error("InternalError", "We encountered an internal error. Please try again.",
                                 500)

    def _wait(self, fired: Fired, phase: str) -> None:
        """The phase's latencies, then its holds."""
        for latency in fired.of(A.Latency, phase):
            time.sleep(latency.seconds)
        for hold in fired.of(A.Hold, phase):
            self.holds[hold.name].pause(hold.timeout)


def _journal_failure(entry: Entry, exc: BaseException) -> None:
    if isinstance(exc, AWSError):
        Journal.end(entry, exc.status, exc.code)
    elif isinstance(exc, DropConnection):
        Journal.end(entry, 0, "ConnectionDropped")
    else:
        Journal.end(entry, 500, "InternalError")


def _journal_success(entry: Entry, result: dict[str, Any], status: int) -> None:
    entry.etag = result.get("ETag") or (result.get("CopyObjectResult") or {}).get("ETag")
    entry.version_id = result.get("VersionId")
    Journal.end(entry, status)
