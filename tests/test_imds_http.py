"""The instance metadata service over raw HTTP: IMDSv2 token rules, the tree, errors, rotation."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from fakes3.imds import CredentialEndpoints, MetadataServer, MetadataService, Request, TemporaryCredential
from fakes3.imds.testing import FakeClock, SequentialVendor, http_call

TTL = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN = "X-aws-ec2-metadata-token"
CREDS = "/latest/meta-data/iam/security-credentials/fakes3-role"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Served:
    def __init__(self, service: MetadataService, server: MetadataServer, vendor: SequentialVendor,
                 clock: FakeClock) -> None:
        self.service, self.server, self.vendor, self.clock = service, server, vendor, clock

    def call(self, path: str, method: str = "GET", headers: dict[str, str] | None = None
             ) -> tuple[int, dict[str, str], bytes]:
        return http_call(self.server.url + path, method, headers)

    def token(self, ttl: int = 21600) -> str:
        status, _, body = self.call("/latest/api/token", "PUT", {TTL: str(ttl)})
        assert status == 200
        return body.decode()

    def get(self, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
        return self.call(path, headers={TOKEN: token} if token is not None else {})


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    servers: list[MetadataServer] = []

    def start(**options: object) -> Served:
        clock = FakeClock()
        vendor = SequentialVendor(clock=clock, lifetime=float(options.pop("lifetime", 6 * 3600)))  # type: ignore[arg-type]
        service = MetadataService(vendor, clock=clock, **options)  # type: ignore[arg-type]
        server = MetadataServer(CredentialEndpoints(imds=service)).start()
        servers.append(server)
        return Served(service, server, vendor, clock)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def imds(serve: Callable[..., Served]) -> Served:
    return serve()


# -- IMDSv2 session tokens -----------------------------------------------------------------------


def test_token_put_returns_token_and_echoes_ttl(imds: Served) -> None:
    status, headers, body = imds.call("/latest/api/token", "PUT", {TTL: "21600"})
    assert status == 200
    assert headers["content-type"] == "text/plain"
    assert headers[TTL.lower()] == "21600"
    assert body and b"\n" not in body
    assert imds.get("/latest/meta-data/instance-id", body.decode())[0] == 200


@pytest.mark.parametrize("ttl", ["1", "21600", "300"])
def test_token_ttl_in_range_is_accepted(imds: Served, ttl: str) -> None:
    status, headers, _ = imds.call("/latest/api/token", "PUT", {TTL: ttl})
    assert (status, headers[TTL.lower()]) == (200, ttl)


@pytest.mark.parametrize("ttl", ["0", "21601", "-1", "abc", "1.5", "", "99999999999999999999"])
def test_token_ttl_out_of_range_or_malformed_is_400(imds: Served, ttl: str) -> None:
    assert imds.call("/latest/api/token", "PUT", {TTL: ttl})[0] == 400


def test_token_put_without_ttl_header_is_400(imds: Served) -> None:
    assert imds.call("/latest/api/token", "PUT")[0] == 400


def test_token_put_through_a_proxy_is_refused(imds: Served) -> None:
    status, headers, _ = imds.call("/latest/api/token", "PUT", {TTL: "60", "X-Forwarded-For": "10.1.2.3"})
    assert status == 403
    assert TTL.lower() not in headers


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_token_path_only_accepts_put(imds: Served, method: str) -> None:
    status, headers, _ = imds.call("/latest/api/token", method, {TTL: "60"})
    assert status == 405
    assert headers["allow"] == "PUT"


def test_token_expires_after_its_ttl(imds: Served) -> None:
    token = imds.token(ttl=60)
    imds.clock.advance(59)
    assert imds.get("/latest/meta-data/", token)[0] == 200
    imds.clock.advance(1)
    assert imds.get("/latest/meta-data/", token)[0] == 401


@pytest.mark.parametrize("token", ["", "not-a-token", "AAAA", "QUJD" * 14])
def test_unknown_token_is_401_even_when_v1_is_allowed(imds: Served, token: str) -> None:
    assert imds.get("/latest/meta-data/", None)[0] == 200  # IMDSv1 allowed
    assert imds.get("/latest/meta-data/", token)[0] == 401


def test_token_of_another_instance_is_401(serve: Callable[..., Served]) -> None:
    first, second = serve(), serve()
    assert second.get("/latest/meta-data/", first.token())[0] == 401


def test_v2_only_refuses_requests_without_token(serve: Callable[..., Served]) -> None:
    imds = serve(v2_only=True)
    for path in ("/", "/latest/", "/latest/meta-data/", CREDS, "/latest/meta-data/no-such-thing"):
        status, headers, _ = imds.get(path)
        assert status == 401, path
        assert headers["content-type"] == "text/html"
    token = imds.token()
    assert imds.get(CREDS, token)[0] == 200
    assert imds.service.v1_credentials.vend_count == 0


def test_reset_revokes_tokens_and_rotates_credentials(imds: Served) -> None:
    token = imds.token()
    first = json.loads(imds.get(CREDS, token)[2])["AccessKeyId"]
    imds.service.reset()
    assert imds.get(CREDS, token)[0] == 401
    second = json.loads(imds.get(CREDS, imds.token())[2])["AccessKeyId"]
    assert first != second


# -- the tree --------------------------------------------------------------------------------------


def test_root_lists_versions(imds: Served) -> None:
    status, headers, body = imds.get("/")
    versions = body.decode().split("\n")
    assert status == 200 and headers["content-type"] == "text/plain"
    assert versions[-1] == "latest" and "1.0" in versions and "2021-03-23" in versions
    assert not body.endswith(b"\n")
    assert imds.get("/2021-03-23/meta-data/instance-id")[2] == imds.service.instance_id.encode()


def test_latest_lists_categories_without_user_data(imds: Served) -> None:
    assert imds.get("/latest/")[2] == b"dynamic\nmeta-data"
    assert imds.get("/latest")[2] == b"dynamic\nmeta-data"


def test_meta_data_listing(imds: Served) -> None:
    names = imds.get("/latest/meta-data/")[2].decode().split("\n")
    for expected in ("ami-id", "ami-launch-index", "hostname", "iam/", "instance-id", "instance-type",
                     "local-hostname", "local-ipv4", "mac", "placement/", "security-groups",
                     "services/", "block-device-mapping/", "network/"):
        assert expected in names
    assert names == sorted(names)
    assert imds.get("/latest/meta-data/iam/")[2] == b"info\nsecurity-credentials/"
    assert imds.get("/latest/meta-data/iam")[2] == b"info\nsecurity-credentials/"  # no slash: same
    assert imds.get("/latest/meta-data/iam/security-credentials/")[2] == b"fakes3-role"
    assert imds.get("/latest/meta-data/placement/")[2] == b"availability-zone\nregion"
    assert imds.get("/latest/meta-data/services/")[2] == b"domain\npartition"
    assert imds.get("/latest/dynamic/")[2] == b"instance-identity/"
    mac = imds.service.mac
    assert imds.get("/latest/meta-data/network/interfaces/macs/")[2] == f"{mac}/".encode()
    assert imds.get(f"/latest/meta-data/network/interfaces/macs/{mac}/local-ipv4s")[2] == b"10.0.0.10"


def test_leaf_values(serve: Callable[..., Served]) -> None:
    imds = serve(region="eu-west-2", instance_id="i-0123456789abcdef0", instance_type="t3.micro")
    token = imds.token()
    values = {
        "instance-id": "i-0123456789abcdef0",
        "instance-type": "t3.micro",
        "placement/region": "eu-west-2",
        "placement/availability-zone": "eu-west-2a",
        "services/domain": "amazonaws.com",
        "services/partition": "aws",
        "local-ipv4": "10.0.0.10",
        "local-hostname": "ip-10-0-0-10.eu-west-2.compute.internal",
        "ami-launch-index": "0",
        "security-groups": "default",
    }
    for path, value in values.items():
        for suffix in ("", "/"):  # a value is served with a trailing slash too
            status, headers, body = imds.get("/latest/meta-data/" + path + suffix, token)
            assert (status, body.decode()) == (200, value), path + suffix
            assert headers["content-type"] == "text/plain"


def test_role_credentials_document(imds: Served) -> None:
    status, headers, body = imds.get(CREDS, imds.token())
    assert status == 200 and headers["content-type"] == "text/plain"
    document = json.loads(body)
    issued = imds.vendor.issued[-1]
    assert list(document) == ["Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token",
                              "Expiration"]
    assert document["Code"] == "Success" and document["Type"] == "AWS-HMAC"
    assert document["AccessKeyId"] == issued.access_key
    assert document["SecretAccessKey"] == issued.secret_key
    assert document["Token"] == issued.session_token
    assert document["Expiration"] == issued.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert document["LastUpdated"] == imds.clock.datetime().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert STAMP.match(document["Expiration"]) and STAMP.match(document["LastUpdated"])
    assert b'"Code" : "Success"' in body  # IMDS's own JSON layout


def test_iam_info_document(imds: Served) -> None:
    document = json.loads(imds.get("/latest/meta-data/iam/info", imds.token())[2])
    assert document["Code"] == "Success"
    assert document["InstanceProfileArn"] == "arn:aws:iam::000000000000:instance-profile/fakes3-role"
    assert re.fullmatch(r"AIPA[0-9A-Z]{17}", document["InstanceProfileId"])
    assert STAMP.match(document["LastUpdated"])


def test_instance_identity_document(serve: Callable[..., Served]) -> None:
    imds = serve(region="cn-north-1", account_id="123456789012")
    status, _, body = imds.get("/latest/dynamic/instance-identity/document")
    document = json.loads(body)
    assert status == 200
    assert document["region"] == "cn-north-1"
    assert document["availabilityZone"] == "cn-north-1a"
    assert document["accountId"] == "123456789012"
    assert document["instanceId"] == imds.service.instance_id
    assert re.fullmatch(r"i-0[0-9a-f]{16}", document["instanceId"])
    assert imds.get("/latest/meta-data/services/domain")[2] == b"amazonaws.com.cn"


def test_user_data_absent_is_404_present_is_bytes(serve: Callable[..., Served]) -> None:
    assert serve().get("/latest/user-data")[0] == 404
    data = b"#!/bin/sh\necho \xff\x00 hello\n"
    imds = serve(user_data=data)
    status, headers, body = imds.get("/latest/user-data")
    assert (status, body) == (200, data)
    assert headers["content-type"] == "application/octet-stream"
    assert imds.get("/latest/")[2] == b"dynamic\nmeta-data\nuser-data"


def test_instance_without_role_has_no_iam(serve: Callable[..., Served]) -> None:
    imds = serve(role_name=None)
    assert "iam/" not in imds.get("/latest/meta-data/")[2].decode().split("\n")
    assert imds.get("/latest/meta-data/iam/security-credentials/")[0] == 404
    assert imds.vendor.issued == []


@pytest.mark.parametrize("path", [
    "/nonexistent", "/latest/api", "/latest/meta-data/no-such-key", "/latest/user-data/x",
    "/latest/meta-data/ami-id/deeper", "/latest/meta-data/iam/security-credentials/other-role",
    "/%ff%fe", "/latest/../../etc/passwd", "/2099-01-01/meta-data/",
    "/latest/dynamic/instance-identity/pkcs7", "/latest/meta-data/placement/region/x",
])
def test_unknown_paths_are_404_html(imds: Served, path: str) -> None:
    status, headers, body = imds.get(path, imds.token())
    assert status == 404
    assert headers["content-type"] == "text/html"
    assert b"404 - Not Found" in body and b"Traceback" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_metadata_is_read_only(imds: Served, method: str) -> None:
    status, headers, _ = imds.call("/latest/meta-data/instance-id", method, {TOKEN: imds.token()})
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_head_has_no_body(imds: Served) -> None:
    status, headers, body = imds.call("/latest/meta-data/instance-id", "HEAD")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(imds.service.instance_id))


# -- credentials: v1/v2 sets, rotation -----------------------------------------------------------


def test_v1_and_v2_callers_get_separate_credentials(imds: Served) -> None:
    token = imds.token()
    v2 = json.loads(imds.get(CREDS, token)[2])["AccessKeyId"]
    v1 = json.loads(imds.get(CREDS)[2])["AccessKeyId"]
    assert v1 != v2
    assert json.loads(imds.get(CREDS, token)[2])["AccessKeyId"] == v2  # each set is stable
    assert json.loads(imds.get(CREDS)[2])["AccessKeyId"] == v1
    assert len(imds.vendor.issued) == 2


def test_credentials_rotate_30_minutes_before_expiry(imds: Served) -> None:
    token = imds.token()
    first = json.loads(imds.get(CREDS, token)[2])
    imds.clock.advance(6 * 3600 - 30 * 60 - 1)  # 30 min + 1 s left: still served
    assert json.loads(imds.get(CREDS, token)[2])["AccessKeyId"] == first["AccessKeyId"]
    imds.clock.advance(1)  # 30 min left: the next credentials are out, the old ones still valid
    second = json.loads(imds.get(CREDS, imds.token())[2])
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert second["Expiration"] > first["Expiration"]
    assert second["LastUpdated"] == imds.clock.datetime().strftime("%Y-%m-%dT%H:%M:%SZ")


def test_served_credentials_never_trigger_botocore_static_stability(serve: Callable[..., Served]) -> None:
    # botocore extends IMDS credentials with <= 25 minutes left (15 min window + up to 10 min
    # jitter): what IMDS serves must always have more than that.
    imds = serve(lifetime=3600)
    for _ in range(3 * 3600 // 60):
        imds.clock.advance(60)
        expiration = json.loads(imds.get(CREDS, imds.token())[2])["Expiration"]
        expires = datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert expires.timestamp() - imds.clock() > 25 * 60


def test_short_lifetimes_rotate_at_half_life(serve: Callable[..., Served]) -> None:
    imds = serve(lifetime=600)
    first = json.loads(imds.get(CREDS)[2])["AccessKeyId"]
    imds.clock.advance(299)
    assert json.loads(imds.get(CREDS)[2])["AccessKeyId"] == first
    imds.clock.advance(1)
    assert json.loads(imds.get(CREDS)[2])["AccessKeyId"] != first


def test_rotate_vends_new_credentials_on_next_request(imds: Served) -> None:
    first = json.loads(imds.get(CREDS)[2])["AccessKeyId"]
    imds.service.v1_credentials.rotate()
    assert json.loads(imds.get(CREDS)[2])["AccessKeyId"] != first


def test_failing_vendor_is_500_without_traceback(serve: Callable[..., Served]) -> None:
    imds = serve()
    calls: list[int] = []

    def broken() -> TemporaryCredential:
        calls.append(1)
        raise RuntimeError("store unavailable")

    imds.service.v1_credentials.vendor = broken
    status, headers, body = imds.get(CREDS)
    assert status == 500 and headers["content-type"] == "text/html"
    assert b"Traceback" not in body and b"store unavailable" not in body
    imds.service.v1_credentials.vendor = imds.vendor
    assert imds.get(CREDS)[0] == 200 and calls == [1]


# -- the fault seam and the server -----------------------------------------------------------------


def test_before_request_hook_can_answer_instead(imds: Served) -> None:
    seen: list[Request] = []

    def hook(request: Request) -> tuple[int, list[tuple[str, str]], bytes] | None:
        seen.append(request)
        if request.path == CREDS:
            return 503, [("Content-Type", "text/plain")], b"slow down"
        return None

    imds.service.before_request = hook
    assert imds.get(CREDS)[:3:2] == (503, b"slow down")
    assert imds.get("/latest/meta-data/instance-id")[0] == 200
    assert [r.path for r in seen] == [CREDS, "/latest/meta-data/instance-id"]
    assert seen[0].method == "GET" and TOKEN.lower() not in seen[0].headers


def test_before_request_hook_can_hold_a_request(imds: Served) -> None:
    entered, release = threading.Event(), threading.Event()
    result: list[int] = []

    def hold(request: Request) -> None:
        entered.set()
        assert release.wait(10)

    imds.service.before_request = hold
    worker = threading.Thread(target=lambda: result.append(imds.get(CREDS)[0]))
    worker.start()
    assert entered.wait(10)
    assert result == []  # held
    release.set()
    worker.join(10)
    assert result == [200]


def test_server_stop_and_restart_on_same_port(imds: Served) -> None:
    port = imds.server.port
    imds.server.stop()
    with pytest.raises(OSError):
        imds.get("/latest/meta-data/instance-id")
    imds.server.start()
    assert imds.server.port == port
    assert imds.get("/latest/meta-data/instance-id")[0] == 200
