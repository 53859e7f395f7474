"""The container credentials endpoint over raw HTTP: relative and full-URI forms, errors, rotation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest

from fakes3.imds import (
    ContainerCredentialsService,
    CredentialEndpoints,
    MetadataServer,
    MetadataService,
)
from fakes3.imds.testing import FakeClock, SequentialVendor, http_call

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Served:
    def __init__(self, ecs: ContainerCredentialsService, server: MetadataServer, vendor: SequentialVendor,
                 clock: FakeClock) -> None:
        self.ecs, self.server, self.vendor, self.clock = ecs, server, vendor, clock

    def call(self, path: str, method: str = "GET", headers: dict[str, str] | None = None
             ) -> tuple[int, dict[str, str], bytes]:
        return http_call(self.server.url + path, method, headers)

    def full(self, token: str | None = "<configured>") -> tuple[int, dict[str, str], bytes]:
        if token == "<configured>":
            token = self.ecs.authorization_token
        return self.call("/v1/credentials", headers={"Authorization": token} if token is not None else {})


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    servers: list[MetadataServer] = []

    def start(*, with_imds: bool = False, lifetime: float = 6 * 3600, **options: object) -> Served:
        clock = FakeClock()
        vendor = SequentialVendor(clock=clock, lifetime=lifetime, prefix="ASIATASK")
        ecs = ContainerCredentialsService(vendor, clock=clock, **options)  # type: ignore[arg-type]
        imds = MetadataService(SequentialVendor(clock=clock), clock=clock) if with_imds else None
        server = MetadataServer(CredentialEndpoints(imds=imds, ecs=ecs)).start()
        servers.append(server)
        return Served(ecs, server, vendor, clock)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def ecs(serve: Callable[..., Served]) -> Served:
    return serve()


def test_full_uri_with_token_returns_credentials(ecs: Served) -> None:
    status, headers, body = ecs.full()
    assert status == 200 and headers["content-type"] == "application/json"
    document = json.loads(body)
    issued = ecs.vendor.issued[-1]
    assert list(document) == ["RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
    assert document["RoleArn"] == "arn:aws:iam::000000000000:role/fakes3-task-role"
    assert (document["AccessKeyId"], document["SecretAccessKey"], document["Token"]) == (
        issued.access_key, issued.secret_key, issued.session_token)
    assert document["Expiration"] == issued.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert STAMP.match(document["Expiration"])


def test_full_uri_without_authorization_is_401(ecs: Served) -> None:
    status, headers, body = ecs.full(None)
    assert status == 401 and headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == "Unauthorized"
    assert ecs.vendor.issued == []


@pytest.mark.parametrize("token", ["wrong", "Bearer x", "<configured>x"])
def test_full_uri_with_wrong_authorization_is_403(ecs: Served, token: str) -> None:
    token = token.replace("<configured>", ecs.ecs.authorization_token)
    status, _, body = ecs.full(token)
    assert status == 403
    assert json.loads(body)["code"] == "AccessDenied"
    assert ecs.vendor.issued == []


def test_full_uri_with_empty_authorization_is_401(ecs: Served) -> None:
    assert ecs.full("")[0] == 401


def test_configured_authorization_token(serve: Callable[..., Served]) -> None:
    ecs = serve(authorization_token="s3cr3t-token", role_name="app", account_id="123456789012",
                region="us-gov-west-1")
    assert ecs.full("s3cr3t-token")[0] == 200
    assert json.loads(ecs.full("s3cr3t-token")[2])["RoleArn"] == "arn:aws-us-gov:iam::123456789012:role/app"
    assert ecs.ecs.env("http://127.0.0.1:1/") == {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "s3cr3t-token",
    }


def test_relative_uri_needs_no_authorization(ecs: Served) -> None:
    assert re.fullmatch(r"/v2/credentials/[0-9a-f-]{36}", ecs.ecs.relative_uri)
    status, _, body = ecs.call(ecs.ecs.relative_uri)
    assert status == 200
    assert json.loads(body)["AccessKeyId"] == ecs.vendor.issued[-1].access_key
    assert ecs.call(f"/v1/credentials?id={ecs.ecs.credentials_id}")[0] == 200  # the older v1 form


@pytest.mark.parametrize(("path", "code"), [
    ("/v2/credentials/", "NoIdInRequest"),
    ("/v2/credentials", "NoIdInRequest"),
    ("/v2/credentials/00000000-0000-0000-0000-000000000000", "InvalidIdInRequest"),
    ("/v1/credentials?id=", "NoIdInRequest"),
    ("/v1/credentials?id=nope", "InvalidIdInRequest"),
])
def test_relative_uri_errors_are_400_like_the_ecs_agent(ecs: Served, path: str, code: str) -> None:
    status, headers, body = ecs.call(path)
    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == code


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get(ecs: Served, method: str) -> None:
    status, headers, _ = ecs.call(ecs.ecs.relative_uri, method)
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_credentials_rotate_before_expiry(ecs: Served) -> None:
    first = json.loads(ecs.full()[2])["AccessKeyId"]
    ecs.clock.advance(6 * 3600 - 30 * 60 - 1)
    assert json.loads(ecs.full()[2])["AccessKeyId"] == first
    ecs.clock.advance(1)
    second = json.loads(ecs.full()[2])["AccessKeyId"]
    assert second != first
    assert json.loads(ecs.call(ecs.ecs.relative_uri)[2])["AccessKeyId"] == second  # one role, one set


def test_hook_and_unexpected_errors(ecs: Served) -> None:
    ecs.ecs.before_request = lambda request: (500, [("Content-Type", "application/json")], b"{}")
    assert ecs.full()[0] == 500

    def broken(request: object) -> None:
        raise ZeroDivisionError("hook bug")

    ecs.ecs.before_request = broken
    status, _, body = ecs.full()
    assert status == 500 and json.loads(body)["code"] == "InternalServerError"
    assert b"Traceback" not in body and b"ZeroDivision" not in body
    ecs.ecs.before_request = None
    assert ecs.full()[0] == 200


def test_one_port_serves_imds_and_ecs(serve: Callable[..., Served]) -> None:
    both = serve(with_imds=True)
    assert both.full()[0] == 200
    assert both.call("/latest/meta-data/iam/security-credentials/")[2] == b"fakes3-role"
    alone = serve()  # no IMDS behind the router: its paths are 404
    assert alone.call("/latest/meta-data/")[0] == 404
    assert alone.call("/v3/credentials")[0] == 404


def test_standalone_app_unknown_path_is_404(ecs: Served) -> None:
    status, headers, body = http_call(ecs.server.url + "/v2/credentialsX")
    assert status == 404
    standalone = MetadataServer(ecs.ecs).start()
    try:
        status, headers, body = http_call(standalone.url + "/latest/meta-data/")
        assert status == 404 and json.loads(body)["code"] == "NotFound"
    finally:
        standalone.stop()
