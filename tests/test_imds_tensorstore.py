"""TensorStore's ``imds`` and ``ecs`` credential providers against the fake endpoints.

TensorStore (the real ``tensorstore`` package) fetches credentials from the fake IMDS or container
endpoint and signs its S3 requests to a ``FakeAWS`` with them; the S3 side records the access key
and session token each request carries. When FakeAWS has a credential store, the endpoints vend
from it, so S3 also verifies the signatures and session tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from fakes3 import FakeAWS
from fakes3.imds import (
    ContainerCredentialsService,
    CredentialEndpoints,
    MetadataServer,
    MetadataService,
    Request,
    imds_env,
    vendor_from_store,
)
from fakes3.imds.credentials import TemporaryCredential, Vendor
from fakes3.imds.testing import CREDENTIAL_ENV_VARIABLES, SequentialVendor

ts = pytest.importorskip("tensorstore")

BUCKET = "tensorstore-imds"


class RecordingS3:
    """FakeAWS whose WSGI app notes (access key, session token) of every request."""

    def __init__(self) -> None:
        self.aws = FakeAWS()
        self.seen: list[tuple[str | None, str | None]] = []
        inner = self.aws.app

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            match = re.search(r"Credential=([^/,\s]+)/", environ.get("HTTP_AUTHORIZATION", ""))
            self.seen.append((match.group(1) if match else None, environ.get("HTTP_X_AMZ_SECURITY_TOKEN")))
            return inner(environ, start_response)

        self.aws.http.app = app
        self.issued: list[TemporaryCredential] = []

    def vendor(self) -> Vendor:
        """Vends from FakeAWS's credential store if it has one (then S3 verifies them)."""
        store = getattr(self.aws, "credential_store", None)
        base: Vendor = vendor_from_store(store) if store is not None else SequentialVendor()

        def vend() -> TemporaryCredential:
            self.issued.append(base())
            return self.issued[-1]

        return vend


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[RecordingS3]:
    for name in CREDENTIAL_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-such-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-such-credentials"))
    recording = RecordingS3()
    with recording.aws as aws:
        aws.client("s3").create_bucket(Bucket=BUCKET)
        recording.seen.clear()
        yield recording


def open_kvstore(s3: RecordingS3, credentials: dict[str, Any]) -> Any:
    return ts.KvStore.open({
        "driver": "s3", "bucket": BUCKET, "path": "p/",
        "endpoint": s3.aws.endpoint_url, "aws_region": "us-east-1",
        "context": {
            "aws_credentials": credentials,
            "s3_request_retries": {"max_retries": 2, "initial_delay": "10ms", "max_delay": "50ms"},
        },
    }).result()


@pytest.mark.parametrize("v2_only", [False, True])
def test_tensorstore_imds_provider(s3: RecordingS3, monkeypatch: pytest.MonkeyPatch, v2_only: bool) -> None:
    imds = MetadataService(s3.vendor(), v2_only=v2_only)
    requests: list[Request] = []
    imds.before_request = lambda request: requests.append(request)
    with MetadataServer(CredentialEndpoints(imds=imds)) as server:
        for name, value in imds_env(server.url).items():
            monkeypatch.setenv(name, value)
        kv = open_kvstore(s3, {"type": "imds"})
        kv.write("k", b"value").result()
        assert kv.read("k").result().value == b"value"
    issued = s3.issued[-1]
    assert s3.seen and set(s3.seen) == {(issued.access_key, issued.session_token)}
    assert requests[0].method == "PUT" and requests[0].path == "/latest/api/token"  # IMDSv2
    assert imds.v1_credentials.vend_count == 0


def test_tensorstore_ecs_provider(s3: RecordingS3, monkeypatch: pytest.MonkeyPatch) -> None:
    ecs = ContainerCredentialsService(s3.vendor())
    with MetadataServer(CredentialEndpoints(ecs=ecs)) as server:
        for name, value in ecs.env(server.url).items():
            monkeypatch.setenv(name, value)
        kv = open_kvstore(s3, {"type": "ecs"})
        kv.write("k", b"value").result()
        assert kv.read("k").result().value == b"value"
    issued = s3.issued[-1]
    assert s3.seen and set(s3.seen) == {(issued.access_key, issued.session_token)}
