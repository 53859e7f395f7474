"""The verifier against AWS's published signing examples and against requests botocore signed.

AWS's examples (S3 API reference, "Signature calculations for the Authorization header",
"Query string authentication", "Transferring payload in multiple chunks", and the aws-c-auth
trailing-header vector; SigV2 from "Signing and authenticating REST requests") pin the
arithmetic to the real service, not merely to itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes3.auth import Credential, CredentialStore, Verifier
from fakes3.auth.errors import JSON_SERVICE_ERRORS, AuthError, for_json_service
from fakes3.auth.signing import sign_headers
from fakes3.auth.sigv4 import (
    Scope,
    canonical_path,
    normalized_path,
    sign,
    signing_key,
    trailer_string_to_sign,
)
from fakes3.protocol.http import Headers, HttpRequest
from fakes3.protocol.s3_http import decode_body

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_TIME = 1369353600.0  # 2013-05-24T00:00:00Z
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def verifier(now: float = EXAMPLE_TIME, **kwargs: object) -> Verifier:
    store = CredentialStore([Credential(AKID, SECRET, account_id="111122223333")])
    return Verifier(store, clock=lambda: now, **kwargs)  # type: ignore[arg-type]


def auth_header(signed: str, signature: str, date: str = "20130524") -> str:
    return (f"AWS4-HMAC-SHA256 Credential={AKID}/{date}/us-east-1/s3/aws4_request,"
            f"SignedHeaders={signed},Signature={signature}")


def rejected(call: object, *args: object, **kwargs: object) -> AuthError:
    with pytest.raises(AuthError) as err:
        call(*args, **kwargs)  # type: ignore[operator]
    return err.value


# -- AWS's published examples -----------------------------------------------------------------


def test_get_object_example():
    headers = Headers({
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": "20130524T000000Z",
        "Authorization": auth_header("host;range;x-amz-content-sha256;x-amz-date",
                                     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    })
    auth = verifier().authenticate("GET", "/test.txt", "", headers)
    assert auth.principal.account_id == "111122223333"
    assert auth.principal.access_key == AKID
    assert auth.region == "us-east-1"
    assert auth.payload is None  # an empty body, checked already


def test_put_object_example_with_a_special_character_and_a_date_header():
    headers = Headers({
        "Host": "examplebucket.s3.amazonaws.com",
        "Date": "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        "Content-Length": "21",
        "Authorization": auth_header("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                                     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
    })
    auth = verifier().authenticate("PUT", "/test%24file.text", "", headers)
    assert auth.payload is not None
    request = HttpRequest("PUT", "/test%24file.text", {}, headers, io.BytesIO(b"Welcome to Amazon S3."), "")
    _, body = decode_body(request, auth.payload)
    assert body.read() == b"Welcome to Amazon S3."
    bad = HttpRequest("PUT", "/test%24file.text", {}, headers, io.BytesIO(b"Welcome to Amazon S4."), "")
    _, body = decode_body(bad, auth.payload)
    err = rejected(body.read)
    assert err.code == "XAmzContentSHA256Mismatch" and err.status == 400
    assert err.fields["ClientComputedContentSHA256"] == headers["x-amz-content-sha256"]


@pytest.mark.parametrize(("query", "signature"), [
    ("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    ("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
])
def test_bucket_examples_with_query_strings(query, signature):
    headers = Headers({
        "Host": "examplebucket.s3.amazonaws.com",
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": "20130524T000000Z",
        "Authorization": auth_header("host;x-amz-content-sha256;x-amz-date", signature),
    })
    verifier().authenticate("GET", "/", query, headers)


PRESIGNED_QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
    "%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


def test_presigned_example_is_valid_for_its_lifetime_only():
    headers = Headers({"Host": "examplebucket.s3.amazonaws.com"})
    verifier(EXAMPLE_TIME + 86400).authenticate("GET", "/test.txt", PRESIGNED_QUERY, headers)
    err = rejected(verifier(EXAMPLE_TIME + 86401).authenticate, "GET", "/test.txt", PRESIGNED_QUERY,
                   headers)
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Request has expired")
    assert err.fields["X-Amz-Expires"] == "86400"
    assert err.fields["Expires"] == "2013-05-25T00:00:00Z"
    assert err.fields["ServerTime"] == "2013-05-25T00:00:01Z"
    early = rejected(verifier(EXAMPLE_TIME - 3600).authenticate, "GET", "/test.txt",
                     PRESIGNED_QUERY, headers)
    assert (early.code, early.message) == ("AccessDenied", "Request is not yet valid")


def test_presigned_expiry_over_a_week_is_refused():
    query = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801")
    err = rejected(verifier().authenticate, "GET", "/test.txt", query, Headers({"Host": "h"}))
    assert (err.code, err.status) == ("AuthorizationQueryParametersError", 400)
    assert "less than a week" in err.message


def _streaming_request(body: bytes) -> tuple[Headers, HttpRequest]:
    headers = Headers({
        "Host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "Content-Length": "66824",
        "Authorization": auth_header(
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
    })
    return headers, HttpRequest("PUT", "/examplebucket/chunkObject.txt", {}, headers,
                                io.BytesIO(body), "")


def _example_chunks(corrupt: bool = False) -> bytes:
    out = b""
    for size, signature in [(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
                            (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
                            (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")]:
        data = bytearray(b"a" * size)
        if corrupt and size == 1024:
            data[10] = ord("b")
        out += f"{size:x};chunk-signature={signature}\r\n".encode() + bytes(data) + b"\r\n"
    return out


def test_streaming_example_verifies_every_chunk():
    headers, request = _streaming_request(_example_chunks())
    auth = verifier().authenticate("PUT", request.raw_path, "", headers)
    _, body = decode_body(request, auth.payload)
    assert body.read() == b"a" * 66560


def test_streaming_example_with_a_tampered_chunk_is_refused():
    headers, request = _streaming_request(_example_chunks(corrupt=True))
    auth = verifier().authenticate("PUT", request.raw_path, "", headers)
    _, body = decode_body(request, auth.payload)
    assert body.read(65536) == b"a" * 65536  # the first chunk is genuine
    err = rejected(body.read, 1024)
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.fields["StringToSign"].startswith("AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n")
    assert err.fields["SignatureProvided"] == \
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"


def test_trailer_signature_example():
    scope = Scope(AKID, "20130524", "us-east-1", "s3")
    string_to_sign = trailer_string_to_sign(
        "20130524T000000Z", scope, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        {"first": "1st", "second": "2nd", "third": "3rd"})
    key = signing_key(SECRET, "20130524", "us-east-1", "s3")
    assert hmac.new(key, string_to_sign.encode(), "sha256").hexdigest() == \
        "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"


def test_sigv2_header_example():
    headers = Headers({"Host": "johnsmith.s3.amazonaws.com", "Date": "Tue, 27 Mar 2007 19:36:42 +0000",
                       "Authorization": f"AWS {AKID}:bWq2s1WEIj+Ydj0vQ697zp+IXMU="})
    when = dt.datetime(2007, 3, 27, 19, 36, 42, tzinfo=dt.UTC).timestamp()
    auth = verifier(when).authenticate("GET", "/photos/puppy.jpg", "", headers, vhost_bucket="johnsmith")
    assert auth.principal.access_key == AKID


def test_sigv2_query_example():
    query = f"AWSAccessKeyId={AKID}&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
    headers = Headers({"Host": "johnsmith.s3.amazonaws.com"})
    verifier(1175139620).authenticate("GET", "/photos/puppy.jpg", query, headers, vhost_bucket="johnsmith")
    err = rejected(verifier(1175139621).authenticate, "GET", "/photos/puppy.jpg", query, headers,
                   vhost_bucket="johnsmith")
    assert (err.code, err.message) == ("AccessDenied", "Request has expired")
    assert "X-Amz-Expires" not in err.fields or err.fields["X-Amz-Expires"] is None


# -- requests botocore signed -----------------------------------------------------------------


KEYS = ["plain.txt", "a b/c+d", "üñí/çødé", "tilde~and!star*'()", "semi;colon,comma=eq&amp",
        "pct%20literal", "dots/../and/./slashes//x", "?question#hash"]


def _botocore_signed(method: str, url: str, headers: dict[str, str] | None = None,
                     body: bytes = b"") -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(AKID, SECRET), "s3", "us-east-1").add_auth(request)
    return request


def _verify(request: AWSRequest, now: float | None = None) -> object:
    parts = urlsplit(request.url)
    headers = Headers({k: str(v) for k, v in request.headers.items()})
    if "host" not in headers:
        headers = headers.replaced({"Host": parts.netloc})
    if request.body:  # as the HTTP layer adds it
        headers = headers.replaced({"Content-Length": str(len(request.body))})
    return verifier(time.time() if now is None else now).authenticate(
        request.method, parts.path or "/", parts.query, headers)


@pytest.mark.parametrize("key", KEYS)
def test_botocore_signed_object_requests_with_awkward_keys(key):
    url = "http://127.0.0.1:4566/bkt/" + quote(key, safe="/~")
    _verify(_botocore_signed("PUT", url, {"Content-Type": "text/plain", "x-amz-meta-Odd_Name": " a  b "},
                             b"body"))
    _verify(_botocore_signed("GET", url + "?versionId=3%2F4&response-content-type=text%2Fplain"))


def test_botocore_signed_query_with_repeated_and_blank_values():
    url = "http://127.0.0.1:4566/bkt?list-type=2&prefix=a%2Fb%20c&start-after=&delimiter=%2F&uploads"
    _verify(_botocore_signed("GET", url))


@pytest.mark.parametrize("key", KEYS)
def test_botocore_presigned_urls_with_awkward_keys(key):
    url = "http://127.0.0.1:4566/bkt/" + quote(key, safe="/~")
    request = AWSRequest(method="GET", url=url, headers={})
    S3SigV4QueryAuth(Credentials(AKID, SECRET), "s3", "us-east-1", expires=60).add_auth(request)
    _verify(request)
    v2 = AWSRequest(method="GET", url=url, headers={})
    v2.auth_path = None
    HmacV1QueryAuth(Credentials(AKID, SECRET), expires=60).add_auth(v2)
    _verify(v2)


def test_botocore_sigv2_header_with_subresources_and_amz_headers():
    request = AWSRequest(method="PUT", url="http://127.0.0.1:4566/bkt/k?partNumber=2&uploadId=a%2Fb",
                         data=b"x", headers={"Content-Type": "text/plain", "x-amz-meta-b": "2",
                                             "x-amz-meta-a": "1"})
    request.auth_path = None
    HmacV1Auth(Credentials(AKID, SECRET)).add_auth(request)
    _verify(request)


def test_a_changed_request_is_a_signature_mismatch_naming_what_was_signed():
    request = _botocore_signed("GET", "http://127.0.0.1:4566/bkt/k")
    request.url = "http://127.0.0.1:4566/bkt/other"
    err = rejected(_verify, request)
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.fields["AWSAccessKeyId"] == AKID
    assert err.fields["CanonicalRequest"].startswith("GET\n/bkt/other\n\nhost:127.0.0.1:4566\n")
    assert err.fields["CanonicalRequestBytes"].startswith("47 45 54 0a 2f")
    assert err.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert err.fields["StringToSignBytes"].startswith("41 57 53 34")
    assert len(err.fields["SignatureProvided"]) == 64


def test_unsigned_amz_headers_are_refused():
    request = _botocore_signed("GET", "http://127.0.0.1:4566/bkt/k")
    request.headers["x-amz-meta-added"] = "later"
    err = rejected(_verify, request)
    assert (err.code, err.message) == ("AccessDenied",
                                       "There were headers present in the request which were not signed")
    assert err.fields["HeadersNotSigned"] == "x-amz-meta-added"


def test_x_amz_content_sha256_is_required_and_must_be_a_known_value():
    request = _botocore_signed("GET", "http://127.0.0.1:4566/bkt/k")
    del request.headers["X-Amz-Content-SHA256"]
    request.headers["X-Amz-Content-SHA256"] = "not-a-hash"
    err = rejected(_verify, request)
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "x-amz-content-sha256")
    sent = sign_headers("GET", "http://127.0.0.1:4566/bkt/k",
                        credential=Credential(AKID, SECRET))
    del sent["X-Amz-Content-SHA256"]
    err = rejected(verifier(time.time()).authenticate, "GET", "/bkt/k", "", Headers(sent))
    assert (err.code, err.message) == ("InvalidRequest",
                                       "Missing required header for this request: x-amz-content-sha256")


@pytest.mark.parametrize(("authorization", "code"), [
    ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/2013/s3/aws4_request, SignedHeaders=host, Signature=00",
     "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/dynamodb/aws4_request, SignedHeaders=host, "
     "Signature=00", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20130523/us-east-1/s3/aws4_request, SignedHeaders=host, "
     "Signature=00", "AuthorizationHeaderMalformed"),
    ("AWS4-ECDSA-P256-SHA256 Credential=AKID/20130524/s3/aws4_request", "InvalidRequest"),
    ("Bearer abc", "InvalidArgument"),
    ("AWS no-colon", "InvalidArgument"),
])
def test_malformed_authorization_headers(authorization, code):
    headers = Headers({"Host": "h", "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY,
                       "Authorization": authorization})
    err = rejected(verifier().authenticate, "GET", "/", "", headers)
    assert err.code == code and err.status == 400


def test_unknown_key_and_skew_and_missing_date():
    headers = {"Host": "h", "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY,
               "Authorization": auth_header("host;x-amz-content-sha256;x-amz-date", "00" * 32)}
    unknown = dict(headers, Authorization=headers["Authorization"].replace(AKID, "AKIDUNKNOWN"))
    err = rejected(verifier().authenticate, "GET", "/", "", Headers(unknown))
    assert (err.code, err.status, err.fields["AWSAccessKeyId"]) == ("InvalidAccessKeyId", 403, "AKIDUNKNOWN")
    err = rejected(verifier(EXAMPLE_TIME + 901).authenticate, "GET", "/", "", Headers(headers))
    assert (err.code, err.status) == ("RequestTimeTooSkewed", 403)
    assert err.fields == {"RequestTime": "20130524T000000Z", "ServerTime": "2013-05-24T00:15:01Z",
                          "MaxAllowedSkewMilliseconds": "900000", "Resource": None}
    # Within the window, the request goes on to the signature check (and fails it).
    err = rejected(verifier(EXAMPLE_TIME - 899).authenticate, "GET", "/", "", Headers(headers))
    assert err.code == "SignatureDoesNotMatch"
    no_date = {k: v for k, v in headers.items() if k != "x-amz-date"}
    err = rejected(verifier().authenticate, "GET", "/", "", Headers(no_date))
    assert (err.code, err.message) == ("AccessDenied",
                                       "AWS authentication requires a valid Date or x-amz-date header")


def test_open_mode_takes_any_signature_and_names_the_account():
    headers = Headers({"Host": "h", "Authorization": auth_header("host", "bad")})
    auth = verifier(mode="open").authenticate("GET", "/", "", headers)
    assert (auth.principal.account_id, auth.principal.access_key) == ("111122223333", AKID)
    unknown = verifier(mode="open").authenticate(
        "GET", "/", "", Headers({"Authorization": auth_header("host", "x").replace(AKID, "who")}))
    assert unknown.principal.account_id == "000000000000"
    unsigned = verifier(mode="open").authenticate("GET", "/", "", Headers({}))
    assert unsigned.principal.account_id == "000000000000" and unsigned.principal.access_key is None


def test_unsigned_requests_are_the_anonymous_principal():
    auth = verifier().authenticate("GET", "/bkt/k", "", Headers({"Host": "h"}))
    assert auth.principal.anonymous and auth.principal.account_id == "anonymous"


def test_signing_keys_are_cached():
    signing_key.cache_clear()
    for _ in range(3):
        _verify(_botocore_signed("GET", "http://127.0.0.1:4566/bkt/k"))
    info = signing_key.cache_info()
    assert info.misses == 1 and info.hits == 2


def test_sign_is_hmac_sha256_for_keys_of_any_length():
    for key in (b"", b"k", signing_key(SECRET, "20130524", "us-east-1", "s3"), b"x" * 64, b"y" * 65):
        assert sign(key, "text \u00e9") == hmac.new(key, "text \u00e9".encode(), "sha256").hexdigest()


# -- the canonical request, against botocore's ---------------------------------------------------

_TOKEN = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
_VALUE = st.text(st.sampled_from("aZ09 \t-_.:/;,=\"'()"), max_size=12)


class _Recording:
    """A botocore signer that keeps the canonical request it signed."""

    canonical = ""

    def canonical_request(self, request: Any) -> str:
        self.canonical = super().canonical_request(request)  # type: ignore[misc]
        return self.canonical


class _S3Recording(_Recording, S3SigV4Auth):
    pass


class _GenericRecording(_Recording, SigV4Auth):
    pass


@pytest.mark.parametrize(("raw", "s3", "other"), [
    ("/", "/", "/"),
    ("/bkt/plain-key_1.txt~", "/bkt/plain-key_1.txt~", "/bkt/plain-key_1.txt~"),
    ("/test$file.text", "/test%24file.text", "/test%24file.text"),
    ("/a b/%7e%41%2F", "/a%20b/~A/", "/a%20b/%257e%2541%252F"),
    ("/a/./b/../c//d/", "/a/./b/../c//d/", "/a/c/d/"),
])
def test_canonical_paths(raw, s3, other):
    """S3's path is decoded and encoded once, not normalised; other services' is normalised and
    encoded as sent, so a second time (as botocore's SigV4Auth does)."""
    assert (canonical_path(raw), normalized_path(raw)) == (s3, other)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    service=st.sampled_from(["s3", "dynamodb"]),
    method=st.sampled_from(["GET", "PUT", "HEAD", "POST", "DELETE"]),
    path=st.lists(st.sampled_from(["a", "b c", "..", ".", "", "é~ü", "%41", "+", "x;y=z", "*'!"]),
                  max_size=5).map("/".join),
    query=st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=4),
    headers=st.dictionaries(st.one_of(_TOKEN.map("x-test-".__add__), _TOKEN.map("x-amz-meta-".__add__),
                                      st.just("content-type"), st.just("range")), _VALUE, max_size=4),
    body=st.binary(max_size=8),
)
def test_the_canonical_request_is_botocores(service, method, path, query, headers, body):
    """Whatever botocore signs verifies, and the canonical request the verifier builds (shown by a
    signature mismatch) is botocore's: paths (S3's as sent; other services' normalised and encoded
    twice), queries, header values (trimmed) and payload hashes."""
    url = "http://127.0.0.1:4566/" + quote(path, safe="/~")
    if query:
        url += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    signer = (_S3Recording if service == "s3" else _GenericRecording)(Credentials(AKID, SECRET),
                                                                     service, "eu-west-1")
    signer.add_auth(request)
    parts = urlsplit(request.url)
    sent = Headers({**{k: str(v) for k, v in request.headers.items()}, "Host": parts.netloc,
                    "Content-Length": str(len(body))})
    payload_hash = None if service == "s3" else hashlib.sha256(body).hexdigest()

    def authenticate(headers: Headers) -> object:
        return verifier(time.time()).authenticate(method, parts.path, parts.query, headers,
                                                  service=service, payload_hash=payload_hash)

    authenticate(sent)
    tampered = sent["Authorization"].rsplit("=", 1)[0] + "=" + "0" * 64
    err = rejected(authenticate, sent.replaced({"Authorization": tampered}))
    assert err.code == "SignatureDoesNotMatch"
    assert err.fields["CanonicalRequest"] == signer.canonical


def test_every_failure_maps_to_a_json_service_error():
    reasons = {"unknown_key", "invalid_token", "expired_token", "bad_signature", "payload_hash", "skewed",
               "expired_request", "malformed", "anonymous"}
    assert set(JSON_SERVICE_ERRORS) == reasons
    err = rejected(verifier().authenticate, "GET", "/", "", Headers({"Authorization": "Bearer x"}))
    mapped = for_json_service(err)
    assert (mapped.code, mapped.status) == ("IncompleteSignatureException", 400)


def test_a_json_service_request_signed_by_botocore():
    import hashlib

    from botocore.auth import SigV4Auth

    body = b'{"TableName": "t"}'
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                         headers={"X-Amz-Target": "DynamoDB_20120810.DescribeTable",
                                  "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(AKID, SECRET), "dynamodb", "eu-west-1").add_auth(request)
    headers = Headers({**{k: str(v) for k, v in request.headers.items()}, "Host": "127.0.0.1:4566"})
    auth = verifier(time.time()).authenticate("POST", "/", "", headers, service="dynamodb",
                                              payload_hash=hashlib.sha256(body).hexdigest())
    assert (auth.principal.account_id, auth.region) == ("111122223333", "eu-west-1")
    err = rejected(verifier(time.time()).authenticate, "POST", "/", "", headers, service="dynamodb",
                   payload_hash=hashlib.sha256(b"{}").hexdigest())
    assert for_json_service(err).code == "InvalidSignatureException"
