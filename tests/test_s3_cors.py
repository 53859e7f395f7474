"""S3 CORS: Put/Get/DeleteBucketCors, OPTIONS preflights, and CORS headers on actual requests.

Where a wording or a header comes from, a comment says. The sources:

* [LS] LocalStack's ``tests/aws/services/s3/test_s3_cors.py`` and its ``.snapshot.json``: each
  test ``@markers.aws.validated``, the snapshot recorded against S3 in us-east-1 (2023-2025).
* [s3-tests] ceph s3-tests ``test_cors_*`` (run against AWS too; none is ``fails_on_aws``).
* [API] the S3 API reference (PutBucketCors, CORSRule, "Appendix: OPTIONS object") and the user
  guide's CORS pages.
* Issue threads quoting S3's answers: versity/versitygw#1863 and #1870, noobaa/noobaa-core#8954,
  aws/aws-sdk-js#3667; Huawei OBS's S3-compatible OPTIONS page for the missing-method 400.

Raw HTTP (``requests``) for what a browser sends; boto3 for the configuration.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
import requests
from botocore.exceptions import ClientError
from s3_callers import error_of

from fakes3 import FakeAWS

BUCKET = "cors-bkt"
ORIGIN = "https://localhost:4200"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution "
               "of Origin, request method / Access-Control-Request-Method or "
               "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
SCHEMA = "The XML you provided was not well-formed or did not validate against our published schema"


def rule(**members: Any) -> dict[str, Any]:
    return {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET", "PUT"], **members}


def configure(s3: Any, *rules: dict[str, Any]) -> None:
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": list(rules)})


def cors_headers(response: requests.Response) -> dict[str, str]:
    """The response's Access-Control-* headers and Vary."""
    return {k: v for k, v in response.headers.items()
            if k.lower().startswith("access-control-") or k.lower() == "vary"}


def error(response: requests.Response) -> dict[str, str]:
    root = SafeET.fromstring(response.content)
    return {child.tag: child.text or "" for child in root}


def options(url: str, **headers: str) -> requests.Response:
    return requests.options(url, headers={k.replace("_", "-"): v for k, v in headers.items()}, timeout=30)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"cors-test")
    return BUCKET


@pytest.fixture
def key_url(fakes3: FakeAWS, bucket: str) -> str:
    return f"{fakes3.endpoint_url}/{bucket}/k"


# -- Put/Get/DeleteBucketCors -----------------------------------------------------------------------


def test_get_without_a_configuration_is_404(s3_client, bucket):
    # [LS] test_get_cors "get-cors-no-set": 404 NoSuchCORSConfiguration with a BucketName.
    assert error_of(s3_client.get_bucket_cors, Bucket=BUCKET) == \
        ("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")


def test_a_configuration_comes_back_as_put(s3_client, bucket):
    # [LS] test_put_cors and "get-bucket-cors-casing": order, case and unnormalized origins kept;
    # only the members set come back. test_put_cors_empty_origin: an empty origin is accepted.
    first = {"ID": "uploads", "AllowedOrigins": ["https://test.com", "http://test.com:80", ""],
             "AllowedMethods": ["PUT", "GET", "HEAD"], "MaxAgeSeconds": 3000,
             "AllowedHeaders": ["x-amz-expected-bucket-owner", "x-AMZ-server-SIDE-encryption"],
             "ExposeHeaders": ["ETag", "x-amz-request-id"]}
    second = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
    configure(s3_client, first, second)
    assert s3_client.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == [first, second]


def test_a_put_replaces_and_a_delete_removes(s3_client, bucket):
    # [LS] test_delete_cors: DeleteBucketCors is 204 with or without a configuration.
    assert s3_client.delete_bucket_cors(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 204
    configure(s3_client, rule())
    configure(s3_client, {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]})
    assert s3_client.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == \
        [{"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]}]
    assert s3_client.delete_bucket_cors(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3_client.get_bucket_cors, Bucket=BUCKET)[:2] == ("NoSuchCORSConfiguration", 404)


def test_a_missing_bucket_is_404(s3_client):
    assert error_of(s3_client.put_bucket_cors, Bucket="no-such-bkt",
                    CORSConfiguration={"CORSRules": [rule()]})[:2] == ("NoSuchBucket", 404)
    assert error_of(s3_client.get_bucket_cors, Bucket="no-such-bkt")[:2] == ("NoSuchBucket", 404)


@pytest.mark.parametrize(("rules", "code", "message"), [
    # [LS] test_put_cors_invalid_rules "put-cors-exc" (the method is checked before the origins).
    ([{"AllowedOrigins": ["*", "https://test.com"], "AllowedMethods": ["GET", "PUT", "HEAD", "MYMETHOD"]}],
     "InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"),
    # aws/aws-sdk-js#3667: OPTIONS is no method a rule may allow.
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["OPTIONS"]}],
     "InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"),
    # [LS] "put-cors-exc-empty": no rules is MalformedXML.
    ([], "MalformedXML", SCHEMA),
    # versity/versitygw#1870, S3's answer quoted.
    ([{"AllowedOrigins": ["*example*.com"], "AllowedMethods": ["GET"]}],
     "InvalidRequest", 'AllowedOrigin "*example*.com" can not have more than one wildcard.'),
    # [API] CORSRule (2019 page): AllowedHeader "can contain at most one * wild character"; the
    # wording is AllowedOrigin's, as MinIO's and Swift's s3api copies of S3's give it.
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-amz-*", "*-meta-*"]}],
     "InvalidRequest", 'AllowedHeader "*-meta-*" can not have more than one wildcard.'),
    # noobaa/noobaa-core#8954 ("like AWS") and AWS's answer quoted in a deployment log.
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["ETag", "x-amz-meta-*"]}],
     "InvalidRequest", 'ExposeHeader "x-amz-meta-*" contains wildcard. We currently do not support '
                       "wildcard for ExposeHeader."),
    # [API] "You can add up to 100 rules"; the wording is Ceph RGW's, MinIO's and Scality's (not
    # confirmed against S3 itself).
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101,
     "InvalidRequest", "The number of CORS rules should not exceed allowed limit of 100 rules."),
])
def test_invalid_configurations_are_refused(s3_client, bucket, rules, code, message):
    got = error_of(s3_client.put_bucket_cors, Bucket=BUCKET, CORSConfiguration={"CORSRules": rules})
    assert got[:2] == (code, 400)
    assert got[2].startswith(message)
    assert error_of(s3_client.get_bucket_cors, Bucket=BUCKET)[1] == 404  # nothing was stored


def put_raw(s3: Any, document: bytes, content_md5: bool = True) -> tuple[str, int, str] | None:
    """PutBucketCors with ``document`` as the body (XML botocore's validation would not send),
    and its Content-MD5 as the only integrity header (or none)."""
    def replace_body(request: Any, **_: Any) -> None:
        request.data = document
        for name in ("Content-MD5", "Content-Length", "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm"):
            if name in request.headers:
                del request.headers[name]
        if content_md5:
            request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(document).digest()).decode()

    s3.meta.events.register_first("before-sign.s3.PutBucketCors", replace_body)
    try:
        s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [rule()]})
        return None
    except ClientError as err:
        e = err.response
        return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutBucketCors", replace_body)


@pytest.mark.parametrize(("inner", "code", "message"), [
    # versity/versitygw#1863: a rule without AllowedMethod (or AllowedOrigin) is MalformedXML, an
    # empty AllowedMethod "Unsupported method is " with nothing after it.
    ("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>", "MalformedXML", SCHEMA),
    ("<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>", "MalformedXML", SCHEMA),
    ("<CORSRule/>", "MalformedXML", SCHEMA),
    ("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod/></CORSRule>", "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is "),
    ("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
     "<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule>", "MalformedXML", SCHEMA),
    ("<CORSRule><AllowedOrigin>*", "MalformedXML", SCHEMA),
])
def test_malformed_documents_are_refused(s3_client, bucket, inner, code, message):
    refused = put_raw(s3_client, f"<CORSConfiguration>{inner}</CORSConfiguration>".encode())
    assert refused is not None and refused[:2] == (code, 400)
    assert refused[2].startswith(message)


def test_a_put_without_content_md5_or_a_checksum_is_refused(s3_client, bucket):
    # [API] PutBucketCors: Content-MD5 "must be used" (2019: "Required: Yes"); botocore marks the
    # operation requestChecksumRequired and sends a CRC32. S3's 400 quoted in aws/aws-cli#229.
    document = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    refused = put_raw(s3_client, document, content_md5=False)
    assert refused is not None and refused[:2] == ("InvalidRequest", 400)
    assert refused[2].startswith("Missing required header for this request: Content-MD5")
    assert put_raw(s3_client, document) is None  # with a Content-MD5 the same document is stored
    assert s3_client.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == \
        [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]


# -- preflights -------------------------------------------------------------------------------------


def test_a_preflight_without_an_origin_is_400(fakes3, key_url):
    # [LS] "options-no-origin", with and without a bucket or a configuration.
    for url in (key_url, f"{fakes3.endpoint_url}/no-such-bkt/k"):
        response = options(url, Access_Control_Request_Method="GET")
        assert response.status_code == 400
        assert error(response)["Code"] == "BadRequest"
        assert error(response)["Message"] == "Insufficient information. Origin request header needed."


def test_a_preflight_to_a_bucket_without_cors_is_403(key_url):
    # [LS] test_cors_http_options_no_config: ResourceType BUCKET although the URL names a key;
    # Method the method asked for, or OPTIONS when none was. No CORS headers.
    response = options(key_url, Origin=ORIGIN, Access_Control_Request_Method="PUT")
    assert response.status_code == 403
    got = error(response)
    assert (got["Code"], got["Method"], got["ResourceType"]) == ("AccessForbidden", "PUT", "BUCKET")
    assert got["Message"].startswith("CORSResponse: CORS is not enabled for this bucket.")
    # The element order versity/versitygw#2083 reports S3 sends (not checked against S3 here).
    assert list(got)[:4] == ["Code", "Message", "Method", "ResourceType"]
    assert cors_headers(response) == {}
    assert error(options(key_url, Origin=ORIGIN))["Method"] == "OPTIONS"


def test_a_preflight_to_a_missing_bucket_is_403(fakes3, bucket):
    # [LS] test_cors_http_options_non_existent_bucket "options-with-origin".
    response = options(f"{fakes3.endpoint_url}/no-such-bkt/k", Origin=ORIGIN)
    assert response.status_code == 403
    got = error(response)
    assert (got["Code"], got["Message"], got["Method"], got["ResourceType"]) == \
        ("AccessForbidden", "CORSResponse: Bucket not found", "OPTIONS", "BUCKET")


def test_a_matching_preflight_is_200_with_the_rules_headers(s3_client, key_url):
    # [LS] test_cors_match_origins "opt-right-origin": these headers exactly, an empty body; no
    # Access-Control-Allow-Headers since none was asked for.
    configure(s3_client, rule(MaxAgeSeconds=3000, AllowedHeaders=["*"]))
    response = options(key_url, Origin=ORIGIN, Access_Control_Request_Method="PUT")
    assert (response.status_code, response.content) == (200, b"")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Max-Age": "3000", "Access-Control-Allow-Credentials": "true", "Vary": VARY}
    assert "Content-Type" not in response.headers


def test_a_preflight_is_journaled_and_faults_can_target_it(fakes3, s3_client, key_url):
    """Preflights pass the same seam as every S3 request (operation ``OPTIONS``)."""
    from fakes3.faults import error as fault_error

    configure(s3_client, rule())
    assert options(key_url, Origin=ORIGIN, Access_Control_Request_Method="GET").status_code == 200
    entry = fakes3.journal.entries()[-1]
    assert (entry.operation, entry.status, entry.key) == ("OPTIONS", 200, "k")
    with fakes3.faults.add(fault_error(503, "SlowDown"), operation="OPTIONS", times=1):
        assert options(key_url, Origin=ORIGIN, Access_Control_Request_Method="GET").status_code == 503
    assert options(key_url, Origin=ORIGIN, Access_Control_Request_Method="GET").status_code == 200


def test_a_preflight_is_answered_virtual_host_style_too(fakes3, s3_client, bucket):
    configure(s3_client, rule())
    response = requests.options(f"{fakes3.endpoint_url}/k", timeout=30, headers={
        "Host": f"{BUCKET}.localhost:{fakes3.port}", "Origin": ORIGIN,
        "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_rule_for_every_origin_answers_a_star_and_no_credentials(s3_client, key_url):
    # [LS] "opt-random-wildcard-origin" and test_put_cors_default_values "opt-get".
    configure(s3_client, {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]})
    response = options(key_url, Origin="http://random:1234", Access_Control_Request_Method="GET")
    assert response.status_code == 200
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET", "Vary": VARY}


def test_a_preflight_no_rule_allows_is_403(fakes3, s3_client, key_url):
    # [LS] "opt-wrong-origin" (scheme differs), "opt-put" (method not allowed): ResourceType OBJECT
    # for a key; test_cors_options_fails_partial_origin: BUCKET for the bucket's URL.
    configure(s3_client, {**rule(), "AllowedMethods": ["GET"]})
    for origin, method in (("http://localhost:4200", "GET"), (ORIGIN, "PUT")):
        response = options(key_url, Origin=origin, Access_Control_Request_Method=method)
        assert response.status_code == 403
        got = error(response)
        assert (got["Code"], got["Method"], got["ResourceType"]) == ("AccessForbidden", method, "OBJECT")
        assert got["Message"].startswith(NOT_ALLOWED)
        assert cors_headers(response) == {}
    response = options(f"{fakes3.endpoint_url}/{BUCKET}", Origin="http://x",
                       Access_Control_Request_Method="GET")
    assert (response.status_code, error(response)["ResourceType"]) == (403, "BUCKET")


def test_a_preflight_without_a_method_is_400(s3_client, key_url):
    # Huawei OBS's S3 page: 400 "Invalid Access-Control-Request-Method: null"; s3-tests: 400.
    # Methods S3 does not serve are refused alike (as Scality's S3 server does: unconfirmed).
    configure(s3_client, rule())
    for method, shown in ((None, "null"), ("PATCH", "PATCH")):
        headers = {"Origin": ORIGIN} | ({"Access-Control-Request-Method": method} if method else {})
        response = requests.options(key_url, headers=headers, timeout=30)
        assert response.status_code == 400
        assert error(response)["Code"] == "BadRequest"
        assert error(response)["Message"].startswith(f"Invalid Access-Control-Request-Method: {shown}")


@pytest.mark.parametrize(("allowed", "origin", "matches"), [
    # [s3-tests] test_cors_origin_response: `*` is any run of characters, the empty one too,
    # and a pattern is anchored at both ends; an origin need not be a URL.
    ("*suffix", "foo.suffix", True), ("*suffix", "foo.suffix.get", False),
    ("start*end", "startend", True), ("start*end", "start12end", True), ("start*end", "0start12end", False),
    ("prefix*", "prefix", True), ("prefix*", "bla.prefix", False),
    ("ab*ba", "aba", False),  # what is before and after the `*` may not overlap (a regex's reading)
    # [LS] test_cors_options_match_partial_origin / fails_partial_origin (a trailing slash).
    ("http://*.origin.com", "http://test.origin.com", True),
    ("http://*.origin.com", "http://test.origin.com/", False),
    # [API] repost article: scheme, host and port must match.
    ("http://www.example.com", "https://www.example.com", False),
    ("http://www.example.com", "http://www.example.com:80", False),
])
def test_origin_patterns(s3_client, key_url, allowed, origin, matches):
    configure(s3_client, {"AllowedOrigins": [allowed], "AllowedMethods": ["GET"]})
    response = options(key_url, Origin=origin, Access_Control_Request_Method="GET")
    assert response.status_code == (200 if matches else 403)
    assert response.headers.get("Access-Control-Allow-Origin") == (origin if matches else None)


def test_requested_headers_must_each_be_allowed(s3_client, key_url):
    # [LS] test_cors_match_headers: names match whatever their case and come back lower case, in
    # the order asked for; one name not allowed refuses the preflight.
    configure(s3_client, rule(AllowedHeaders=["x-amz-expected-bucket-owner", "x-AMZ-server-SIDE-encryption",
                                              "x-amz-meta-*"]))
    response = options(key_url, Origin=ORIGIN, Access_Control_Request_Method="GET",
                       Access_Control_Request_Headers="x-AMZ-expected-BUCKET-owner, "
                                                      "x-amz-server-side-encryption,X-Amz-Meta-Color")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Headers"] == \
        "x-amz-expected-bucket-owner, x-amz-server-side-encryption, x-amz-meta-color"
    response = options(key_url, Origin=ORIGIN, Access_Control_Request_Method="GET",
                       Access_Control_Request_Headers="x-amz-expected-bucket-owner, x-amz-request-payer")
    assert response.status_code == 403
    assert error(response)["Message"].startswith(NOT_ALLOWED)


def test_a_rule_without_allowed_headers_allows_none(s3_client, key_url):
    # [LS] test_put_cors_default_values "opt-get-headers"; [s3-tests] test_cors_header_option.
    configure(s3_client, rule(ExposeHeaders=["x-amz-meta-header1"]))
    response = options(key_url, Origin=ORIGIN, Access_Control_Request_Method="GET",
                       Access_Control_Request_Headers="x-amz-meta-header2")
    assert response.status_code == 403


def test_expose_headers_are_sent(s3_client, key_url):
    # [LS] test_cors_expose_headers "opt-get".
    configure(s3_client, {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"],
                          "ExposeHeaders": ["x-amz-id-2", "x-amz-request-id", "x-amz-request-payer"]})
    response = options(key_url, Origin="localhost:4566", Access_Control_Request_Method="GET")
    assert response.headers["Access-Control-Expose-Headers"] == \
        "x-amz-id-2, x-amz-request-id, x-amz-request-payer"


def test_the_first_matching_rule_answers(s3_client, key_url):
    configure(s3_client, {"AllowedOrigins": ["https://*"], "AllowedMethods": ["PUT"], "MaxAgeSeconds": 1},
              {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 2},
              {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 3})
    answers = {}
    for origin, method in ((ORIGIN, "PUT"), (ORIGIN, "GET"), ("http://other", "GET")):
        response = options(key_url, Origin=origin, Access_Control_Request_Method=method)
        answers[origin, method] = response.headers["Access-Control-Max-Age"]
    assert answers == {(ORIGIN, "PUT"): "1", (ORIGIN, "GET"): "2", ("http://other", "GET"): "3"}


def test_a_preflight_to_a_presigned_url_is_not_checked_as_signed(s3_client, bucket):
    # A browser sends the preflight to the URL it will PUT to, query string and all, unsigned:
    # [s3-tests] test_cors_presigned_put_object: 200 once a rule allows it.
    configure(s3_client, rule(AllowedHeaders=["content-type"]))
    url = s3_client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "upload"})
    response = options(url, Origin=ORIGIN, Access_Control_Request_Method="PUT",
                       Access_Control_Request_Headers="content-type")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Headers"] == "content-type"


# -- actual requests --------------------------------------------------------------------------------


def test_a_get_from_an_allowed_origin_carries_the_headers(s3_client, key_url):
    # [LS] "get-right-origin": the preflight's headers on the GET; "get-wrong-origin" and
    # "get-no-origin": none at all, and no Vary.
    configure(s3_client, rule(MaxAgeSeconds=3000, AllowedHeaders=["*"]))
    url = s3_client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"})
    response = requests.get(url, headers={"Origin": ORIGIN}, timeout=30)
    assert (response.status_code, response.content) == (200, b"cors-test")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Max-Age": "3000", "Access-Control-Allow-Credentials": "true", "Vary": VARY}
    assert cors_headers(requests.get(url, headers={"Origin": "http://localhost:4200"}, timeout=30)) == {}
    assert cors_headers(requests.get(url, timeout=30)) == {}


def answers_with_origin(client: Any, operation: str, origin: str) -> list[dict[str, str]]:
    """Makes ``client`` send an Origin with ``operation``; returns the headers of each answer."""
    seen: list[dict[str, str]] = []

    def add_origin(request: Any, **_: Any) -> None:
        request.headers["Origin"] = origin

    def keep_headers(http_response: Any, **_: Any) -> None:
        seen.append(dict(http_response.headers))

    client.meta.events.register(f"before-sign.s3.{operation}", add_origin)
    client.meta.events.register(f"after-call.s3.{operation}", keep_headers)
    return seen


def test_head_and_signed_requests_carry_them_too(s3_client, bucket):
    configure(s3_client, {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]})
    seen = answers_with_origin(s3_client, "HeadObject", "http://app")
    s3_client.head_object(Bucket=BUCKET, Key="k")
    assert (seen[0]["Access-Control-Allow-Origin"], seen[0]["Access-Control-Allow-Methods"]) == ("*", "HEAD")


def test_a_request_carrying_preflight_headers_is_matched_by_them(s3_client, key_url):
    # [LS] test_cors_match_methods "get-wrong-op" and test_cors_match_headers
    # "get-non-allowed-with-acl": S3 matches Access-Control-Request-Method and -Headers when a
    # request has them; "get-non-allowed": the request's own headers are not checked.
    configure(s3_client, {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"]})
    url = s3_client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"})
    assert cors_headers(requests.get(url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"},
                                     timeout=30)) == {}
    assert cors_headers(requests.get(url, headers={"Origin": ORIGIN,
                                                   "Access-Control-Request-Headers": "x-amz-request-payer"},
                                     timeout=30)) == {}
    response = requests.get(url, headers={"Origin": ORIGIN, "x-amz-request-payer": "requester"}, timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_method_no_rule_allows_is_served_without_cors_headers(s3_client, bucket):
    # [LS] test_cors_match_methods "put-op": the PUT succeeds; it carries no CORS headers.
    configure(s3_client, {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"]})
    url = s3_client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "new"})
    response = requests.put(url, data=b"v", headers={"Origin": ORIGIN}, timeout=30)
    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert s3_client.get_object(Bucket=BUCKET, Key="new")["Body"].read() == b"v"


def test_a_presigned_put_from_the_browser_gets_them(s3_client, bucket):
    configure(s3_client, rule(ExposeHeaders=["ETag"]))
    url = s3_client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "up"})
    response = requests.put(url, data=b"v", headers={"Origin": ORIGIN}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Expose-Headers"] == "ETag"


def test_errors_carry_them_too(fakes3, s3_client, bucket):
    # [s3-tests] test_cors_origin_response: a GET of a missing key is 404 with the CORS headers,
    # an unsigned PUT refused 403 with them.
    configure(s3_client, {"AllowedOrigins": ["*.suffix"], "AllowedMethods": ["GET"]})
    missing = s3_client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "bar"})
    response = requests.get(missing, headers={"Origin": "foo.suffix"}, timeout=30)
    assert response.status_code == 404
    assert cors_headers(response)["Access-Control-Allow-Origin"] == "foo.suffix"
    assert cors_headers(response)["Access-Control-Allow-Methods"] == "GET"
    unsigned = requests.put(f"{fakes3.endpoint_url}/{BUCKET}/bar", data=b"", timeout=30,
                            headers={"Origin": "foo.suffix", "Access-Control-Request-Method": "GET"})
    assert unsigned.status_code == 403
    assert unsigned.headers["Access-Control-Allow-Origin"] == "foo.suffix"


def test_a_form_upload_gets_them(s3_client, bucket):
    configure(s3_client, {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["POST"], "ExposeHeaders": ["ETag"]})
    form = s3_client.generate_presigned_post(BUCKET, "form/${filename}")
    response = requests.post(form["url"], data=form["fields"], files={"file": ("a.txt", b"hi")},
                             headers={"Origin": ORIGIN}, timeout=30)
    assert response.status_code == 204
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Methods": "POST",
        "Access-Control-Expose-Headers": "ETag", "Access-Control-Allow-Credentials": "true", "Vary": VARY}


def test_the_configuration_survives_a_restart(tmp_path: Path) -> None:
    rules = [{"ID": "web", "AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET", "PUT"],
              "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": rules})
        s3.create_bucket(Bucket="cleared-bkt")
        s3.put_bucket_cors(Bucket="cleared-bkt", CORSConfiguration={"CORSRules": rules})
        s3.delete_bucket_cors(Bucket="cleared-bkt")
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        assert s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == rules
        assert error_of(s3.get_bucket_cors, Bucket="cleared-bkt")[1] == 404
        response = options(f"{aws.endpoint_url}/{BUCKET}/k", Origin=ORIGIN,
                           Access_Control_Request_Method="PUT")
        assert (response.status_code, response.headers["Access-Control-Max-Age"]) == (200, "600")


def test_the_in_process_transport_answers_cors_too(fakes3, s3_client, bucket):
    configure(s3_client, {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]})
    with fakes3.patch() as fake:
        client = fake.client("s3")
        seen = answers_with_origin(client, "GetObject", "http://app")
        assert client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"cors-test"
    assert seen[0]["Access-Control-Allow-Origin"] == "*"
