"""Faults seen from a real client's side, and what the journal recorded."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import botocore.config
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from fakes3.faults import (
    FaultController,
    RuleError,
    ambiguous,
    clock_skew,
    error,
    hold_action,
    ignore_conditions,
)
from fakes3.faults.rules import Call

BUCKET = "faulty"


def client(fakes3, attempts: int = 1, **config):
    return fakes3.client("s3", config=botocore.config.Config(
        retries={"total_max_attempts": attempts, "mode": "standard"}, **config))


@pytest.fixture
def s3(fakes3):
    c = client(fakes3)
    c.create_bucket(Bucket=BUCKET)
    return c


def puts(fakes3, key=None):
    entries = fakes3.journal.entries()
    return [e for e in entries if e.operation == "PutObject" and (key is None or e.key == key)]


def test_error_twice_then_botocore_retries_and_succeeds(fakes3, faults, s3):
    faults.add(error(503, "SlowDown"), operation="PutObject", times=2)
    retrying = client(fakes3, attempts=3)
    retrying.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert [(e.status, e.error) for e in puts(fakes3)] == [(503, "SlowDown"), (503, "SlowDown"), (200, None)]
    assert all(e.faults for e in puts(fakes3)[:2]) and not puts(fakes3)[2].faults
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"


def test_an_error_fault_applies_nothing(faults, s3):
    faults.add(error(500, "InternalError"), operation="PutObject", key="k")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert err.value.response["Error"]["Code"] == "InternalError"
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="k")
    s3.put_object(Bucket=BUCKET, Key="other", Body=b"x")  # the key glob did not match


def test_ambiguous_put_is_applied_and_the_retry_sees_412(fakes3, faults, s3):
    faults.add(ambiguous("500"), operation="PutObject", times=1)
    retrying = client(fakes3, attempts=3)
    with pytest.raises(ClientError) as err:
        retrying.put_object(Bucket=BUCKET, Key="once", Body=b"first", IfNoneMatch="*")
    # The first attempt was applied, then answered 500; botocore retried and lost to itself.
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert [(e.status, e.error) for e in puts(fakes3)] == [
        (500, "InternalError"), (412, "PreconditionFailed")]
    assert s3.get_object(Bucket=BUCKET, Key="once")["Body"].read() == b"first"


def test_ambiguous_drop_reaches_a_client_that_does_not_retry(fakes3, faults, s3):
    faults.add(ambiguous("drop"), operation="PutObject", times=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        s3.put_object(Bucket=BUCKET, Key="dropped", Body=b"applied")
    assert s3.get_object(Bucket=BUCKET, Key="dropped")["Body"].read() == b"applied"
    assert [(e.status, e.error) for e in puts(fakes3, "dropped")] == [(0, "ConnectionDropped")]


def test_ambiguous_drop_then_botocores_retry_finds_its_own_write(fakes3, faults, s3):
    faults.add(ambiguous("drop"), operation="PutObject", times=1)
    with pytest.raises(ClientError) as err:
        client(fakes3, attempts=3).put_object(Bucket=BUCKET, Key="dropped", Body=b"applied", IfNoneMatch="*")
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=BUCKET, Key="dropped")["Body"].read() == b"applied"
    assert [(e.status, e.error) for e in puts(fakes3, "dropped")] == [
        (0, "ConnectionDropped"), (412, "PreconditionFailed")]


def test_ignore_conditions_lets_two_creates_both_succeed(fakes3, faults, s3):
    faults.add(ignore_conditions(), operation="PutObject")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"one", IfNoneMatch="*")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"two", IfNoneMatch="*")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"two"
    assert [e.status for e in puts(fakes3, "k")] == [200, 200]


def test_ignore_conditions_can_answer_501_as_old_s3(faults, s3):
    faults.add(ignore_conditions("501"), operation="PutObject")
    s3.put_object(Bucket=BUCKET, Key="plain", Body=b"unconditional writes still work")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", IfNoneMatch="*")
    assert err.value.response["Error"]["Code"] == "NotImplemented"


def test_hold_forces_an_interleaving_without_sleeping(fakes3, faults, s3):
    """A conditional create held before it runs; another create wins meanwhile."""
    faults.add(hold_action("first"), operation="PutObject", key="race", nth=1)
    hold = faults.holds["first"]
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(s3.put_object, Bucket=BUCKET, Key="race", Body=b"held", IfNoneMatch="*")
        hold.wait_arrived(1, timeout=30)
        s3.put_object(Bucket=BUCKET, Key="race", Body=b"overtaker", IfNoneMatch="*")
        hold.release()
        with pytest.raises(ClientError) as err:
            held.result(timeout=30)
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=BUCKET, Key="race")["Body"].read() == b"overtaker"


def test_a_hold_between_check_and_act_blocks_only_that_key(fakes3, faults, s3):
    faults.add(hold_action("mid", phase="between"), operation="PutObject", key="held")
    hold = faults.holds["mid"]
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(s3.put_object, Bucket=BUCKET, Key="held", Body=b"x", IfNoneMatch="*")
        hold.wait_arrived(1, timeout=30)
        s3.put_object(Bucket=BUCKET, Key="other", Body=b"not blocked")  # another key is free
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket=BUCKET, Key="held")  # checked, not yet written
        hold.release()
        future.result(timeout=30)
    assert s3.get_object(Bucket=BUCKET, Key="held")["Body"].read() == b"x"


def test_clock_skew_offsets_last_modified(faults, s3):
    faults.add(clock_skew(-3600), operation="PutObject")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    modified = s3.head_object(Bucket=BUCKET, Key="k")["LastModified"]
    age = dt.datetime.now(dt.UTC) - modified
    assert dt.timedelta(minutes=55) < age < dt.timedelta(minutes=65)


def test_the_same_seed_gives_the_same_decisions():
    def decisions(seed: int) -> list[bool]:
        controller = FaultController()
        rule = controller.add(error(), operation="GetObject", probability=0.5, seed=seed)
        return [rule.decide(Call("s3", "GetObject", "b", "k")) for _ in range(64)]

    assert decisions(7) == decisions(7)
    assert decisions(7) != decisions(8)
    assert 10 < sum(decisions(7)) < 54


def test_an_outside_chooser_decides(fakes3, faults, s3):
    """Hypothesis (or any test) can supply the fault decisions, so failing cases shrink."""
    script = iter([False, True, False])
    faults.chooser = lambda rule, call, index: next(script)
    try:
        faults.add(error(503, "SlowDown"), operation="PutObject")
        s3.put_object(Bucket=BUCKET, Key="a", Body=b"")
        with pytest.raises(ClientError):
            s3.put_object(Bucket=BUCKET, Key="b", Body=b"")
        s3.put_object(Bucket=BUCKET, Key="c", Body=b"")
    finally:
        faults.chooser = None


def test_rules_are_removable_and_context_managers(faults, s3):
    with faults.add(error(503, "SlowDown"), operation="PutObject"), pytest.raises(ClientError):
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"")
    assert faults.rules() == []


@pytest.mark.fakes3_faults({"match": {"operation": "HeadBucket"}, "action": {"type": "error", "status": 503,
                                                                             "code": "SlowDown"}})
def test_marker_installs_rules_for_one_test(s3):
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=BUCKET)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_marker_rules_are_gone_in_the_next_test(s3):
    s3.head_bucket(Bucket=BUCKET)


# -- the control plane --------------------------------------------------------------------------


def control(fakes3, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(fakes3.endpoint_url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_faults_over_http(fakes3, s3):
    status, body = control(fakes3, "POST", "/_fakes3/faults", {
        "match": {"service": "s3", "operation": "GetObject", "key": "data/*"},
        "when": {"times": 1},
        "action": {"type": "error", "status": 503, "code": "ServiceUnavailable"}})
    assert status == 201
    rule_id = json.loads(body)["rules"][0]["id"]
    s3.put_object(Bucket=BUCKET, Key="data/x", Body=b"x")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=BUCKET, Key="data/x")
    listed = json.loads(control(fakes3, "GET", "/_fakes3/faults")[1])["rules"]
    assert listed[0]["matched"] == 1 and listed[0]["applied"] == 1
    assert control(fakes3, "DELETE", f"/_fakes3/faults/{rule_id}")[0] == 200
    status, journal = control(fakes3, "GET", "/_fakes3/journal")
    lines = [json.loads(line) for line in journal.splitlines()]
    assert [(e["operation"], e["status"]) for e in lines][-2:] == [("PutObject", 200), ("GetObject", 503)]
    assert lines[-1]["faults"] == [f"{rule_id}:error"] and lines[-2]["etag"].startswith('"')


@pytest.mark.parametrize(("rule", "field"), [
    ({"action": {"type": "explode"}}, "action.type"),
    ({"action": {"type": "error", "status": 200}}, "action.status"),
    ({"action": {"type": "error", "colour": "red"}}, "action.colour"),
    ({"match": {"operation": 3}, "action": {"type": "error"}}, "match.operation"),
    ({"when": {"nth": 0}, "action": {"type": "error"}}, "when.nth"),
    ({"when": {"nth": 1, "times": 2}, "action": {"type": "error"}}, "when"),
    ({"match": {"bukket": "x"}, "action": {"type": "error"}}, "match.bukket"),
    ({"match": {}}, "action"),
])
def test_an_invalid_rule_is_rejected_naming_the_field(fakes3, rule, field):
    status, body = control(fakes3, "POST", "/_fakes3/faults", rule)
    assert status == 400
    assert json.loads(body)["field"] == field
    assert control(fakes3, "GET", "/_fakes3/faults")[1] == '{"rules": []}'
    with pytest.raises(RuleError):
        FaultController().add_json(rule)


def test_holds_over_http(fakes3, s3):
    control(fakes3, "POST", "/_fakes3/faults", {"match": {"operation": "PutObject"},
                                                "action": {"type": "hold", "name": "h"}})
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(s3.put_object, Bucket=BUCKET, Key="k", Body=b"")
        status, body = control(fakes3, "POST", "/_fakes3/holds/h/wait?count=1&timeout=30")
        assert status == 200 and json.loads(body)["waiting"] == 1
        control(fakes3, "POST", "/_fakes3/holds/h/release")
        future.result(timeout=30)


def test_the_control_plane_refuses_other_hosts_without_the_token():
    from fakes3.control import ControlPlane
    from fakes3.protocol.http import Headers, HttpRequest

    def request(addr: str, token: str | None = None) -> HttpRequest:
        headers = Headers({"X-Fakes3-Control-Token": token} if token else {})
        return HttpRequest("GET", "/_fakes3/health", {}, headers, None, addr)  # type: ignore[arg-type]

    plane = ControlPlane(["s3"], lambda: None, "0", token="s3cret")
    assert plane.handle(request("127.0.0.1:5000"))[0] == 200
    assert plane.handle(request("[::1]:5000".strip("[]")))[0] in (200, 403)
    assert plane.handle(request("10.1.2.3:5000"))[0] == 403
    assert plane.handle(request("10.1.2.3:5000", "wrong"))[0] == 403
    assert plane.handle(request("10.1.2.3:5000", "s3cret"))[0] == 200
    assert ControlPlane(["s3"], lambda: None, "0").handle(request("10.1.2.3:5000", "x"))[0] == 403


def test_concurrent_rule_counting_is_exact(fakes3, faults, s3):
    rule = faults.add(error(503, "SlowDown"), operation="HeadBucket", times=5)
    barrier = threading.Barrier(8, timeout=30)

    def head(_: int) -> int:
        barrier.wait()
        try:
            s3.head_bucket(Bucket=BUCKET)
            return 0
        except ClientError:
            return 1

    with ThreadPoolExecutor(8) as pool:
        failures = sum(pool.map(head, range(16), timeout=60))
    assert failures == 5 and rule.matched == 16 and rule.applied == 5


# -- faults that change what later reads see ----------------------------------------------------


def test_torn_put_lets_a_concurrent_get_see_a_truncated_body(fakes3, faults, s3):
    from fakes3.faults import torn_put

    faults.add(torn_put("prefix"), operation="PutObject", key="torn")
    faults.add(hold_action("in-flight", phase="between"), operation="PutObject", key="torn")
    body = bytes(range(256)) * 40
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(s3.put_object, Bucket=BUCKET, Key="torn", Body=body)
        faults.holds["in-flight"].wait_arrived(1, timeout=30)
        seen = s3.get_object(Bucket=BUCKET, Key="torn")["Body"].read()
        faults.holds["in-flight"].release()
        future.result(timeout=30)
    assert seen == body[: len(body) // 2]  # a reader saw half an object
    assert s3.get_object(Bucket=BUCKET, Key="torn")["Body"].read() == body
    gets = [e for e in fakes3.journal.entries() if e.operation == "GetObject"]
    assert [e.status for e in gets] == [200, 200]


@pytest.mark.parametrize("visible", ["missing", "empty"])
def test_torn_put_can_show_nothing_or_no_object(faults, s3, visible):
    from fakes3.faults import torn_put

    s3.put_object(Bucket=BUCKET, Key="k", Body=b"old")
    faults.add(torn_put(visible), operation="PutObject")
    faults.add(hold_action("h", phase="between"), operation="PutObject")
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(s3.put_object, Bucket=BUCKET, Key="k", Body=b"new")
        faults.holds["h"].wait_arrived(1, timeout=30)
        if visible == "missing":
            with pytest.raises(s3.exceptions.NoSuchKey):
                s3.get_object(Bucket=BUCKET, Key="k")
        else:
            assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b""
        faults.holds["h"].release()
        future.result(timeout=30)


def test_stale_read_returns_the_deleted_body_for_the_next_k_gets(fakes3, faults, s3):
    from fakes3.faults import stale_read

    s3.put_object(Bucket=BUCKET, Key="k", Body=b"before")
    faults.add(stale_read(reads=2), operation="DeleteObject")
    s3.delete_object(Bucket=BUCKET, Key="k")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"before"
    assert s3.head_object(Bucket=BUCKET, Key="k")["ContentLength"] == len(b"before")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="k")
    statuses = [(e.operation, e.status) for e in fakes3.journal.entries()][-4:]
    assert statuses == [("DeleteObject", 204), ("GetObject", 200), ("HeadObject", 200), ("GetObject", 404)]


def test_stale_read_after_an_overwrite_and_after_a_create(faults, s3):
    from fakes3.faults import stale_read

    faults.add(stale_read(reads=1), operation="PutObject")
    s3.put_object(Bucket=BUCKET, Key="new", Body=b"v1")
    with pytest.raises(s3.exceptions.NoSuchKey):  # read-after-create saw nothing yet
        s3.get_object(Bucket=BUCKET, Key="new")
    s3.put_object(Bucket=BUCKET, Key="new", Body=b"v2")
    assert s3.get_object(Bucket=BUCKET, Key="new")["Body"].read() == b"v1"
    assert s3.get_object(Bucket=BUCKET, Key="new")["Body"].read() == b"v2"


def test_list_lag_hides_new_keys_and_shows_deleted_ones(faults, s3):
    from fakes3.faults import list_lag

    s3.put_object(Bucket=BUCKET, Key="a", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="c", Body=b"")
    faults.add(list_lag(listings=1), operation=["PutObject", "DeleteObject"])
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"")
    s3.delete_object(Bucket=BUCKET, Key="c")

    def keys() -> list[str]:
        return [c["Key"] for c in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    assert keys() == ["a", "c"]
    assert keys() == ["a", "b"]


def test_split_check_act_loses_an_acknowledged_write(fakes3, faults, s3):
    """The race behind "DELETE is not atomic": a conditional delete checks, lets go, and deletes
    a value that a writer put meanwhile, though that write was acknowledged."""
    from fakes3.faults import split_check_act

    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["ETag"]
    faults.add(split_check_act(hold="gap"), operation="DeleteObject")
    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(s3.delete_object, Bucket=BUCKET, Key="k", IfMatch=etag)
        faults.holds["gap"].wait_arrived(1, timeout=30)
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"v2", IfMatch=etag)  # acknowledged
        faults.holds["gap"].release()
        deleting.result(timeout=30)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="k")  # v2 is gone


def test_without_the_split_the_same_interleaving_loses_nothing(faults, s3):
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["ETag"]
    faults.add(hold_action("gap", phase="between"), operation="DeleteObject")
    with ThreadPoolExecutor(2) as pool:
        deleting = pool.submit(s3.delete_object, Bucket=BUCKET, Key="k", IfMatch=etag)
        faults.holds["gap"].wait_arrived(1, timeout=30)
        writing = pool.submit(s3.put_object, Bucket=BUCKET, Key="k", Body=b"v2", IfMatch=etag)
        faults.holds["gap"].release()
        deleting.result(timeout=30)
        with pytest.raises(ClientError) as err:  # the key's lock made the writer wait: 404 now
            writing.result(timeout=30)
    assert err.value.response["Error"]["Code"] in ("NoSuchKey", "PreconditionFailed")


@pytest.mark.fakes3_faults(profile="aws-2019")
def test_profile_aws_2019(s3):
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", IfNoneMatch="*")
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v2")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v1"  # eventually consistent
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v2"


@pytest.mark.fakes3_faults(profile="s3-compatible-weak")
def test_profile_s3_compatible_weak(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"one", IfNoneMatch="*")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"two", IfNoneMatch="*")  # condition ignored
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"two"


def test_stale_read_for_a_wall_clock_window(faults, s3, monkeypatch):
    from fakes3.faults import lag, stale_read

    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")
    faults.add(stale_read(seconds=60), operation="PutObject")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v2")
    for _ in range(3):  # any number of reads inside the window
        assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v1"
    later = lag.time.monotonic() + 61
    monkeypatch.setattr(lag.time, "monotonic", lambda: later)
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v2"


def test_latency_delays_the_answer(fakes3, faults, s3):
    from fakes3.faults import latency

    faults.add(latency(0.2), operation="HeadBucket", times=1)
    s3.head_bucket(Bucket=BUCKET)
    entry = [e for e in fakes3.journal.entries() if e.operation == "HeadBucket"][-1]
    assert entry.faults and entry.complete - entry.invoke >= 0.2


def test_a_hold_after_applying_shows_the_write_before_it_is_acknowledged(faults, s3):
    faults.add(hold_action("ack", phase="after"), operation="PutObject", key="k")
    with ThreadPoolExecutor(1) as pool:
        putting = pool.submit(s3.put_object, Bucket=BUCKET, Key="k", Body=b"applied")
        faults.holds["ack"].wait_arrived(1, timeout=30)
        assert not putting.done()
        assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"applied"
        faults.holds["ack"].release()
        putting.result(timeout=30)


def test_ambiguous_timeout_outlasts_the_client_after_applying(fakes3, faults, s3):
    from botocore.exceptions import ReadTimeoutError

    impatient = client(fakes3, read_timeout=0.5, connect_timeout=5)
    faults.add(ambiguous("timeout", seconds=2.0), operation="PutObject", times=1)
    with pytest.raises(ReadTimeoutError):
        impatient.put_object(Bucket=BUCKET, Key="slow", Body=b"applied anyway")
    assert s3.get_object(Bucket=BUCKET, Key="slow")["Body"].read() == b"applied anyway"


@pytest.mark.parametrize("operation", ["DeleteObject", "CompleteMultipartUpload"])
def test_ignore_conditions_on_deletes_and_completes(operation):
    from fakes3 import FakeAWS

    with FakeAWS(min_part_size=1) as aws:
        s3c = aws.client("s3")
        s3c.create_bucket(Bucket=BUCKET)
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"v1")
        aws.faults.add(ignore_conditions(), operation=operation)
        if operation == "DeleteObject":
            s3c.delete_object(Bucket=BUCKET, Key="k", IfMatch='"0000"')  # not checked
            with pytest.raises(s3c.exceptions.NoSuchKey):
                s3c.get_object(Bucket=BUCKET, Key="k")
        else:
            upload = s3c.create_multipart_upload(Bucket=BUCKET, Key="k")["UploadId"]
            part = s3c.upload_part(Bucket=BUCKET, Key="k", UploadId=upload, PartNumber=1, Body=b"v2")
            parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
            s3c.complete_multipart_upload(Bucket=BUCKET, Key="k", UploadId=upload, IfNoneMatch="*",
                                          MultipartUpload=parts)
            assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v2"
