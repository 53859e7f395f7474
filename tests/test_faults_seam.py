"""The fault seam's fast path: rules indexed by (service, operation), the journal without rules."""

from __future__ import annotations

import contextlib
import threading

import pytest

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.faults import (
    DropConnection,
    FaultController,
    controller,
    error,
    hold_action,
    ignore_conditions,
    split_check_act,
)
from fakes3.faults.lag import Lag
from fakes3.faults.rules import Call
from fakes3.faults.s3_effects import S3Effects
from fakes3.faults.wiring import describe_s3_call, s3_error
from fakes3.s3 import S3Service


def ctx(request_id: str = "req") -> RequestContext:
    return RequestContext(request_id=request_id, access_key="AKIA", connection="127.0.0.1:5000")


def seam(faults: FaultController, handler=None):
    def ok(operation, params, ctx):
        return {"ETag": '"e"', "VersionId": "v1", "Seen": dict(params)}

    return faults.seam("s3", handler or ok, describe_s3_call, s3_error, lambda operation, result: 200)


def test_a_rule_added_after_its_operation_was_indexed_still_fires():
    faults = FaultController()
    put = seam(faults)
    put("PutObject", {"Bucket": "b", "Key": "k"}, ctx())  # no rules at all
    faults.add(error(503, "SlowDown"), operation="GetObject")
    put("PutObject", {"Bucket": "b", "Key": "k"}, ctx())  # PutObject indexed: no candidate
    rule = faults.add(error(503, "SlowDown"), operation="PutObject")
    with pytest.raises(S3Error) as err:
        put("PutObject", {"Bucket": "b", "Key": "k"}, ctx())
    assert err.value.code == "SlowDown"
    assert rule.remove()
    put("PutObject", {"Bucket": "b", "Key": "k"}, ctx())
    entries = faults.journal.entries()
    assert [(e.status, e.error) for e in entries] == [(200, None), (200, None), (503, "SlowDown"),
                                                      (200, None)]
    assert [e.faults for e in entries] == [[], [], [f"{rule.id}:error"], []]


def test_a_profile_change_and_clear_refresh_the_index():
    faults = FaultController()
    put = seam(faults)
    conditional = {"Bucket": "b", "Key": "k", "IfNoneMatch": "*"}
    assert put("PutObject", conditional, ctx())["Seen"] == conditional
    faults.use_profile("aws-2019")
    with pytest.raises(S3Error) as err:
        put("PutObject", conditional, ctx())
    assert err.value.status == 501
    faults.use_profile("aws")
    faults.add(ignore_conditions(), operation="PutObject")
    assert put("PutObject", conditional, ctx())["Seen"] == {"Bucket": "b", "Key": "k"}
    faults.clear()
    assert put("PutObject", conditional, ctx())["Seen"] == conditional


def test_rules_match_by_service_and_operation_in_their_order():
    faults = FaultController()
    anywhere = faults.add(error(500))
    s3_only = faults.add(error(503), service="s3")
    puts = faults.add(error(501), service="s3", operation=["PutObject", "CopyObject"])
    other = faults.add(error(502), service="dynamodb")
    assert faults.candidates("s3", "PutObject") == (anywhere, s3_only, puts)
    assert faults.candidates("s3", "GetObject") == (anywhere, s3_only)
    assert faults.candidates("dynamodb", "PutItem") == (anywhere, other)
    decided = faults.decide(Call("s3", "CopyObject", "b", "k"))
    assert [rule for rule, _ in decided] == [anywhere, s3_only, puts]


def test_the_index_is_bounded_and_decisions_go_on_beyond_it(monkeypatch):
    monkeypatch.setattr(controller, "MAX_INDEXED", 2)
    faults = FaultController()
    rule = faults.add(error(), service="imds")
    assert all(faults.decide(Call("imds", f"GET /latest/{i}")) for i in range(5))
    assert rule.matched == 5 and len(faults._view[1]) == 2


def test_without_rules_the_journal_records_every_request_in_full():
    faults = FaultController()
    outcomes = iter([
        lambda: {"ETag": '"e1"', "VersionId": "v1"},
        lambda: {"CopyObjectResult": {"ETag": '"e2"'}},
        lambda: (_ for _ in ()).throw(S3Error("NoSuchKey", "gone", 404)),
        lambda: (_ for _ in ()).throw(RuntimeError("bug")),
        lambda: (_ for _ in ()).throw(DropConnection()),
        lambda: {},
    ])

    def handler(operation, params, ctx):
        return next(outcomes)()

    call = seam(faults, handler)
    for i in range(6):
        with contextlib.suppress(S3Error, RuntimeError, DropConnection):
            call("GetObject", {"Bucket": "b", "Key": f"k{i}"}, ctx(f"r{i}"))
    entries = faults.journal.entries()
    assert [e.seq for e in entries] == sorted(e.seq for e in entries) and len(entries) == 6
    assert [(e.request_id, e.key, e.status, e.error, e.etag, e.version_id) for e in entries] == [
        ("r0", "k0", 200, None, '"e1"', "v1"),
        ("r1", "k1", 200, None, '"e2"', None),
        ("r2", "k2", 404, "NoSuchKey", None, None),
        ("r3", "k3", 500, "InternalError", None, None),
        ("r4", "k4", 0, "ConnectionDropped", None, None),
        ("r5", "k5", 200, None, None, None),
    ]
    for e in entries:
        assert (e.service, e.operation, e.bucket, e.table) == ("s3", "GetObject", "b", None)
        assert (e.connection, e.access_key) == ("127.0.0.1:5000", "AKIA")
        assert e.thread == threading.current_thread().name
        assert e.complete is not None and e.complete >= e.invoke
        assert e.faults == [] and "faults" not in e.to_json()


def test_between_acts_only_for_the_call_whose_rule_fired():
    """A split-check-act rule for one key: ``between`` lets go of that call's key lock only."""
    faults = FaultController()
    faults.add(split_check_act(), operation="PutObject", key="split")
    released = {}

    def handler(operation, params, ctx):
        lock = threading.Lock()
        lock.acquire()
        seen = []
        original = lock.release

        def release():
            seen.append(True)
            original()

        holder = type("L", (), {"release": staticmethod(release), "acquire": lock.acquire})()
        faults.between(holder)
        released[params["Key"]] = bool(seen)
        return {}

    put = seam(faults, handler)
    put("PutObject", {"Bucket": "b", "Key": "plain"}, ctx())
    put("PutObject", {"Bucket": "b", "Key": "split"}, ctx())
    put("PutObject", {"Bucket": "b", "Key": "plain-again"}, ctx())
    assert released == {"plain": False, "split": True, "plain-again": False}
    assert faults._firing == 0 and faults.current() is None


def test_a_hold_on_one_thread_does_not_make_other_threads_wait():
    faults = FaultController()
    faults.add(hold_action("h", phase="between"), operation="PutObject", key="held")

    def handler(operation, params, ctx):
        faults.between()
        return {}

    put = seam(faults, handler)
    worker = threading.Thread(target=put, args=("PutObject", {"Bucket": "b", "Key": "held"}, ctx()))
    worker.start()
    faults.holds["h"].wait_arrived(1, timeout=30)
    put("PutObject", {"Bucket": "b", "Key": "free"}, ctx())  # not held: returns at once
    faults.holds["h"].release()
    worker.join(30)
    done = {e.key: e.complete for e in faults.journal.entries()}
    free, held = done["free"], done["held"]
    assert free is not None and held is not None and free < held  # done while the held one waited


def test_s3_effects_are_idle_only_when_nothing_lingers(tmp_path):
    service = S3Service(blob_dir=str(tmp_path))
    try:
        effects = S3Effects(service)
        assert effects.idle("PutObject") and effects.idle("ListObjectsV2")
        assert effects.read_view("b", "k") is None
        effects._lagging[("b", "k")] = Lag(None, 1)
        assert not effects.idle("ListObjectsV2") and not effects.idle("ListObjects")
        assert effects.idle("PutObject") and effects.idle("GetObject")
        effects.reset()
        effects._inflight[("b", "k")] = object()  # type: ignore[assignment]
        assert not effects.idle("PutObject") and effects.idle("GetObject")
    finally:
        service.close()


def test_the_model_hook_is_between_with_the_models_signature(tmp_path):
    """``S3Service.fault_hook = faults.model_hook``: a split-check-act rule still splits."""
    faults = FaultController()
    service = S3Service(blob_dir=str(tmp_path))
    service.fault_hook = faults.model_hook
    try:
        put = faults.seam("s3", service.handle, describe_s3_call, s3_error, lambda o, r: 200)
        put("CreateBucket", {"Bucket": "bkt"}, ctx())
        put("PutObject", {"Bucket": "bkt", "Key": "k", "Body": b"v1"}, ctx())
        faults.add(split_check_act(hold="gap"), operation="DeleteObject")
        worker = threading.Thread(target=put, args=("DeleteObject", {"Bucket": "bkt", "Key": "k"},
                                                    ctx()))
        worker.start()
        faults.holds["gap"].wait_arrived(1, timeout=30)
        put("PutObject", {"Bucket": "bkt", "Key": "k", "Body": b"v2"}, ctx())  # the lock was let go
        faults.holds["gap"].release()
        worker.join(30)
        with pytest.raises(S3Error):
            put("GetObject", {"Bucket": "bkt", "Key": "k"}, ctx())  # the delete removed v2
    finally:
        service.close()
