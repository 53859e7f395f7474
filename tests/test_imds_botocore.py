"""boto3's default credential chain against the fake IMDS: v2, v1 fallback, v2-only, refresh.

botocore's own fetcher does the talking (``InstanceMetadataFetcher`` via
``AWS_EC2_METADATA_SERVICE_ENDPOINT``). Time is a ``FakeClock`` shared by the service, botocore's
refreshable credentials (their ``_time_fetcher``) and botocore's IMDS static-stability check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.utils
import pytest
from botocore.exceptions import CredentialRetrievalError

from fakes3.imds import (
    CredentialEndpoints,
    MetadataServer,
    MetadataService,
    Request,
    imds_env,
    vendor_from_store,
)
from fakes3.imds.credentials import TemporaryCredential
from fakes3.imds.testing import CREDENTIAL_ENV_VARIABLES, SIX_HOURS, FakeClock, SequentialVendor

TOKEN_PATH = "/latest/api/token"
ROLE_PATH = "/latest/meta-data/iam/security-credentials/"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in CREDENTIAL_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-such-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-such-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def clock(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()

    def now(remove_tzinfo: bool = True) -> Any:
        moment = clock.datetime()
        return moment.replace(tzinfo=None) if remove_tzinfo else moment

    # botocore's IMDS fetcher reads the wall clock through this (static stability)
    monkeypatch.setattr(botocore.utils, "get_current_datetime", now)
    return clock


class Instance:
    """A fake IMDS on loopback, recording the requests it gets; ``refuse_token`` fails token PUTs."""

    def __init__(self, service: MetadataService, server: MetadataServer, vendor: SequentialVendor) -> None:
        self.service, self.server, self.vendor = service, server, vendor
        self.requests: list[Request] = []
        self.refuse_token: int | None = None
        service.before_request = self._hook

    def _hook(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes] | None:
        self.requests.append(request)
        if self.refuse_token is not None and request.path == TOKEN_PATH:
            return self.refuse_token, [("Content-Type", "text/plain")], b""
        return None

    def get_requests(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path.startswith(path)]


@pytest.fixture
def instance(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Instance]]:
    servers: list[MetadataServer] = []

    def start(**options: Any) -> Instance:
        vendor = SequentialVendor(clock=clock, lifetime=options.pop("lifetime", SIX_HOURS))
        service = MetadataService(vendor, clock=clock, **options)
        server = MetadataServer(CredentialEndpoints(imds=service)).start()
        servers.append(server)
        for name, value in imds_env(server.url).items():
            monkeypatch.setenv(name, value)
        return Instance(service, server, vendor)

    yield start
    for server in servers:
        server.stop()


def resolve(clock: FakeClock) -> Any:
    """boto3's default chain, its refreshable credentials driven by ``clock``."""
    credentials = boto3.session.Session().get_credentials()
    if credentials is not None:
        credentials._time_fetcher = clock.datetime
    return credentials


def same(frozen: Any, issued: TemporaryCredential) -> bool:
    return (frozen.access_key, frozen.secret_key, frozen.token) == (
        issued.access_key, issued.secret_key, issued.session_token)


def test_default_chain_uses_imdsv2(clock: FakeClock, instance: Callable[..., Instance]) -> None:
    imds = instance()
    credentials = resolve(clock)
    assert credentials is not None and credentials.method == "iam-role"
    served = imds.service.credentials.peek()
    assert served is not None
    assert same(credentials.get_frozen_credentials(), served.credential)
    assert imds.vendor.issued == [served.credential]
    assert [r.method for r in imds.requests] == ["PUT", "GET", "GET"]
    assert all("x-aws-ec2-metadata-token" in r.headers for r in imds.get_requests(ROLE_PATH))
    assert imds.service.v1_credentials.vend_count == 0
    # botocore kept the real expiry (no static-stability extension)
    assert credentials._expiry_time.timestamp() == int(served.credential.expires_at)


@pytest.mark.parametrize("refusal", [403, 404, 405])
def test_botocore_falls_back_to_imdsv1(clock: FakeClock, instance: Callable[..., Instance],
                                       refusal: int) -> None:
    imds = instance()
    imds.refuse_token = refusal  # an IMDS without v2, or a token PUT refused on the way
    credentials = resolve(clock)
    assert credentials is not None
    served = imds.service.v1_credentials.peek()
    assert served is not None and same(credentials.get_frozen_credentials(), served.credential)
    assert imds.service.credentials.vend_count == 0
    assert not any("x-aws-ec2-metadata-token" in r.headers for r in imds.get_requests(ROLE_PATH))


def test_v2_only_instance_refuses_botocores_v1_fallback(clock: FakeClock,
                                                        instance: Callable[..., Instance]) -> None:
    imds = instance(v2_only=True)
    imds.refuse_token = 403
    assert resolve(clock) is None  # the chain found nothing: the v1 GET was 401
    assert len(imds.get_requests(ROLE_PATH)) == 1
    assert imds.vendor.issued == []


def test_v2_only_instance_serves_botocore(clock: FakeClock, instance: Callable[..., Instance]) -> None:
    imds = instance(v2_only=True)
    credentials = resolve(clock)
    assert credentials is not None
    assert same(credentials.get_frozen_credentials(), imds.vendor.issued[0])


def test_instance_without_role_gives_no_credentials(clock: FakeClock,
                                                    instance: Callable[..., Instance]) -> None:
    instance(role_name=None)
    assert resolve(clock) is None


def test_boto3_refreshes_into_the_next_credentials_before_expiry(
        clock: FakeClock, instance: Callable[..., Instance]) -> None:
    imds = instance()
    credentials = resolve(clock)
    first = imds.vendor.issued[0]
    expiry = first.expires_at

    clock.now = expiry - 20 * 60  # IMDS would rotate now; boto3 (15 min window) does not ask yet
    assert same(credentials.get_frozen_credentials(), first)
    assert len(imds.vendor.issued) == 1

    clock.now = expiry - 14 * 60  # boto3's advisory refresh: IMDS already has the next set
    frozen = credentials.get_frozen_credentials()
    assert len(imds.vendor.issued) == 2
    second = imds.vendor.issued[1]
    assert same(frozen, second) and second.access_key != first.access_key
    assert credentials._expiry_time.timestamp() == int(second.expires_at)

    clock.now = expiry + 60  # the first set has expired; boto3 needs nothing new
    assert same(credentials.get_frozen_credentials(), second)
    assert len(imds.vendor.issued) == 2


def test_boto3_gets_new_credentials_after_expiry(clock: FakeClock, instance: Callable[..., Instance]) -> None:
    imds = instance(lifetime=3600)
    credentials = resolve(clock)
    first = imds.vendor.issued[0]
    clock.now = first.expires_at + 3600  # long past: a mandatory refresh
    frozen = credentials.get_frozen_credentials()
    second = imds.vendor.issued[-1]
    assert same(frozen, second) and second.access_key != first.access_key
    assert second.expires_at > clock.now


def test_refresh_while_imds_is_down_fails_then_recovers(clock: FakeClock,
                                                       instance: Callable[..., Instance]) -> None:
    # What botocore does (not what one might expect): its IMDS fetcher turns a connection failure
    # into an empty answer, which RefreshableCredentials rejects even in the advisory window.
    imds = instance()
    credentials = resolve(clock)
    first = imds.vendor.issued[0]
    imds.server.stop()  # down: connection refused
    clock.now = first.expires_at - 14 * 60
    with pytest.raises(CredentialRetrievalError):
        credentials.get_frozen_credentials()
    imds.server.start()  # back, same port
    assert same(credentials.get_frozen_credentials(), imds.vendor.issued[1])


def test_s3_accepts_what_imds_vends(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # End to end, real time: IMDS vends from FakeAWS's credential store; S3 verifies them.
    from fakes3 import FakeAWS

    with FakeAWS() as aws:
        store = getattr(aws, "credential_store", None)
        if store is None:
            pytest.skip("this FakeAWS has no credential store")
        imds = MetadataService(vendor_from_store(store))
        with MetadataServer(CredentialEndpoints(imds=imds)) as server:
            for name, value in imds_env(server.url).items():
                monkeypatch.setenv(name, value)
            session = boto3.session.Session()
            s3 = session.client("s3", endpoint_url=aws.endpoint_url)
            s3.create_bucket(Bucket="from-imds")
            s3.put_object(Bucket="from-imds", Key="k", Body=b"v")
            assert s3.get_object(Bucket="from-imds", Key="k")["Body"].read() == b"v"
            served = imds.credentials.peek()
            assert served is not None
            assert session.get_credentials().access_key == served.credential.access_key


def test_botocore_reads_the_region_from_imds(clock: FakeClock, instance: Callable[..., Instance]) -> None:
    instance(region="ap-southeast-2")
    fetcher = botocore.utils.InstanceMetadataRegionFetcher(
        config={"ec2_metadata_service_endpoint": os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]})
    assert fetcher.retrieve_region() == "ap-southeast-2"
