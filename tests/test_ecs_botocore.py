"""boto3's default credential chain against the fake container credentials endpoint.

botocore's ``ContainerProvider`` / ``ContainerMetadataFetcher`` do the talking: the full-URI form
(``AWS_CONTAINER_CREDENTIALS_FULL_URI`` + ``AWS_CONTAINER_AUTHORIZATION_TOKEN``) and the relative
form (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``, which botocore resolves against 169.254.170.2:
the fetcher's ``IP_ADDRESS`` is pointed at the loopback server for the test).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.credentials import ContainerProvider
from botocore.exceptions import CredentialRetrievalError
from botocore.utils import ContainerMetadataFetcher

from fakes3.imds import ContainerCredentialsService, CredentialEndpoints, MetadataServer
from fakes3.imds.credentials import TemporaryCredential
from fakes3.imds.testing import CREDENTIAL_ENV_VARIABLES, FakeClock, SequentialVendor


class Task:
    def __init__(self, service: ContainerCredentialsService, server: MetadataServer,
                 vendor: SequentialVendor, clock: FakeClock) -> None:
        self.service, self.server, self.vendor, self.clock = service, server, vendor, clock


@pytest.fixture
def task(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Task]:
    for name in CREDENTIAL_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-such-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-such-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # nothing behind the container provider
    clock = FakeClock()
    vendor = SequentialVendor(clock=clock, prefix="ASIATASK")
    service = ContainerCredentialsService(vendor, clock=clock)
    with MetadataServer(CredentialEndpoints(ecs=service)) as server:
        yield Task(service, server, vendor, clock)


def full_uri_env(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in task.service.env(task.server.url).items():
        monkeypatch.setenv(name, value)


def resolve(clock: FakeClock) -> Any:
    credentials = boto3.session.Session().get_credentials()
    if credentials is not None:
        credentials._time_fetcher = clock.datetime
    return credentials


def same(frozen: Any, issued: TemporaryCredential) -> bool:
    return (frozen.access_key, frozen.secret_key, frozen.token) == (
        issued.access_key, issued.secret_key, issued.session_token)


def test_full_uri_with_authorization_token(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    full_uri_env(task, monkeypatch)
    credentials = resolve(task.clock)
    assert credentials is not None and credentials.method == "container-role"
    assert same(credentials.get_frozen_credentials(), task.vendor.issued[0])
    assert credentials._expiry_time.timestamp() == int(task.vendor.issued[0].expires_at)


def test_relative_uri(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ContainerMetadataFetcher, "IP_ADDRESS", f"127.0.0.1:{task.server.port}")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", task.service.relative_uri)
    credentials = resolve(task.clock)
    assert credentials is not None and credentials.method == "container-role"
    assert same(credentials.get_frozen_credentials(), task.vendor.issued[0])


def test_boto3_refreshes_into_the_next_credentials(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    full_uri_env(task, monkeypatch)
    credentials = resolve(task.clock)
    first = task.vendor.issued[0]
    task.clock.now = first.expires_at - 20 * 60  # not yet boto3's 15-minute window
    assert same(credentials.get_frozen_credentials(), first)
    assert task.service.requests == 1
    task.clock.now = first.expires_at - 14 * 60  # advisory refresh: the endpoint has rotated
    assert same(credentials.get_frozen_credentials(), task.vendor.issued[1])
    assert task.service.requests == 2


def test_boto3_gets_new_credentials_after_expiry(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    full_uri_env(task, monkeypatch)
    credentials = resolve(task.clock)
    task.clock.now = task.vendor.issued[0].expires_at + 1
    assert same(credentials.get_frozen_credentials(), task.vendor.issued[1])


def _provider(task: Task, environ: dict[str, str], sleeps: list[float]) -> ContainerProvider:
    fetcher = ContainerMetadataFetcher(sleep=sleeps.append)  # botocore's fetcher, without sleeping
    return ContainerProvider(environ=environ, fetcher=fetcher)


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong-token", 403)])
def test_missing_or_wrong_authorization_fails_after_botocores_retries(
        task: Task, token: str | None, status: int) -> None:
    environ = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": task.server.url + "/v1/credentials"}
    if token is not None:
        environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
    sleeps: list[float] = []
    with pytest.raises(CredentialRetrievalError, match=f"non 200 response {status}"):
        _provider(task, environ, sleeps).load()
    assert task.service.requests == ContainerMetadataFetcher.RETRY_ATTEMPTS
    assert len(sleeps) == ContainerMetadataFetcher.RETRY_ATTEMPTS
    assert task.vendor.issued == []


def test_unknown_relative_id_fails(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ContainerMetadataFetcher, "IP_ADDRESS", f"127.0.0.1:{task.server.port}")
    sleeps: list[float] = []
    environ = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/not-this-task"}
    with pytest.raises(CredentialRetrievalError, match="InvalidIdInRequest"):
        _provider(task, environ, sleeps).load()

