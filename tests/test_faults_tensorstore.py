"""The hazard TensorStore's documentation warns about, found through the real ``tensorstore``.

Its ``s3`` driver deletes conditionally with a HEAD carrying If-Match and then an unconditional
DELETE. A write that lands between the two is acknowledged, then deleted. A hold on the DELETE
makes that interleaving happen on demand; without it (and with a conditional DELETE, as AWS
supports today) nothing is lost.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from fakes3.faults import hold_action

ts = pytest.importorskip("tensorstore")

BUCKET = "ts-hazard"


@pytest.fixture
def kv(fakes3, aws_env, s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    return ts.KvStore.open({
        "driver": "s3", "bucket": BUCKET, "endpoint": fakes3.endpoint_url, "aws_region": fakes3.region,
        "context": {"aws_credentials": {"type": "environment"},
                    "s3_request_retries": {"max_retries": 2, "initial_delay": "10ms", "max_delay": "50ms"}},
    }).result(timeout=60)


def test_a_write_between_tensorstores_check_and_delete_is_acknowledged_then_lost(fakes3, faults, kv,
                                                                                 s3_client):
    generation = kv.write("k", b"v1").result(timeout=60).generation
    faults.add(hold_action("before-delete"), operation="DeleteObject", key="k")
    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(lambda: kv.write("k", None, if_equal=generation).result(timeout=60))
        faults.holds["before-delete"].wait_arrived(1, timeout=60)  # its HEAD If-Match passed
        s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v2")  # another writer: acknowledged
        faults.holds["before-delete"].release()
        deleting.result(timeout=60)
    assert kv.read("k").result(timeout=60).state == "missing"  # v2 is lost
    entries = [e for e in fakes3.journal.entries() if e.key == "k"]
    head = [e for e in entries if e.operation == "HeadObject"][-1]
    put = [e for e in entries if e.operation == "PutObject"][-1]
    delete = [e for e in entries if e.operation == "DeleteObject"][-1]
    # The check and the act were two requests, and the acknowledged PUT fell between them.
    assert (head.status, put.status, delete.status) == (200, 200, 204)
    assert head.complete < put.invoke < put.complete < delete.complete


def test_an_atomic_conditional_delete_in_the_same_interleaving_loses_nothing(fakes3, faults, kv, s3_client):
    etag = s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["ETag"]
    faults.add(hold_action("before-delete"), operation="DeleteObject", key="k")
    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(s3_client.delete_object, Bucket=BUCKET, Key="k", IfMatch=etag)
        faults.holds["before-delete"].wait_arrived(1, timeout=60)
        s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v2")
        faults.holds["before-delete"].release()
        with pytest.raises(s3_client.exceptions.ClientError) as err:
            deleting.result(timeout=60)
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert kv.read("k").result(timeout=60).value == b"v2"


def test_without_faults_tensorstores_conditional_operations_hold(kv):
    generation = kv.write("k", b"v1").result(timeout=60).generation
    assert kv.write("k", b"v2", if_equal=b"\x02").result(timeout=60).generation == b""  # exists: refused
    assert kv.write("k", None, if_equal=generation).result(timeout=60).generation != b""
    assert kv.read("k").result(timeout=60).state == "missing"
