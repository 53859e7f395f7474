"""Static website configuration: Put/Get/DeleteBucketWebsite, stored and checked as S3 checks it.

Only the configuration is kept: fakes3 serves no website endpoint (``<bucket>.s3-website-<region>``),
so index documents, error documents and redirects are never applied to a request.

Where each answer comes from (API_PutBucketWebsite, API_IndexDocument, API_RoutingRule; where AWS
documents no wording, what S3 was recorded answering in LocalStack's AWS-validated tests, Ceph
RGW, Scality CloudServer and versitygw):

* A configuration is RedirectAllRequestsTo alone (with anything else: 400 InvalidArgument
  "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.") or an
  IndexDocument (none: 400 InvalidArgument "A value for IndexDocument Suffix must be provided if
  RedirectAllRequestsTo is empty") whose Suffix is not empty and has no slash (400 InvalidArgument
  "The IndexDocument Suffix is not well formed"), with an optional ErrorDocument (its Key required:
  MalformedXML) and RoutingRules.
* RoutingRules: at least one (MalformedXML), at most 50 (400 InvalidRequest "N routing rules
  provided, the number of routing rules in a website configuration is limited to 50."); each has a
  Redirect with something in it (MalformedXML); a Condition, if present, is not empty (400
  InvalidRequest "Condition cannot be empty. ..."); HttpRedirectCode is 301-399 (400 InvalidRequest
  "The provided HTTP redirect code (N) is not valid. Valid codes are 3XX except 300.");
  HttpErrorCodeReturnedEquals is 4XX or 5XX (400 InvalidRequest "The provided HTTP error code (N) is
  not valid. Valid codes are 4XX or 5XX."); ReplaceKeyWith and ReplaceKeyPrefixWith not both (400
  InvalidRequest "You can only define ReplaceKeyPrefix or ReplaceKey but not both.").
* Protocol is http or https (400 InvalidRequest "Invalid protocol, protocol can be http or https.
  If not defined the protocol will be selected automatically.").
* A bucket without one: 404 NoSuchWebsiteConfiguration "The specified bucket does not have a
  website configuration". DeleteBucketWebsite of a bucket without one succeeds (204).

PutBucketWebsite requires Content-MD5 or a checksum (botocore's model: requestChecksumRequired).
Chosen where no source gives S3's answer: an empty HostName in RedirectAllRequestsTo is 400
InvalidArgument with Ceph RGW's wording; a non-numeric code is MalformedXML (Scality's answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors, ingest
from fakes3.s3.bucket_settings import copied
from fakes3.s3.model import Backend

Params = dict[str, Any]

MAX_ROUTING_RULES = 50
PROTOCOLS = ("http", "https")
_REDIRECT_MEMBERS = ("HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith",
                     "ReplaceKeyWith")
_CONDITION_MEMBERS = ("HttpErrorCodeReturnedEquals", "KeyPrefixEquals")


def no_such_website_configuration(bucket: str) -> S3Error:
    return S3Error("NoSuchWebsiteConfiguration",
                   "The specified bucket does not have a website configuration", 404,
                   fields={"BucketName": bucket})


def _bad_protocol() -> S3Error:
    return errors.invalid_request("Invalid protocol, protocol can be http or https. If not defined the "
                                  "protocol will be selected automatically.")


# -- checking a configuration ---------------------------------------------------------------------


def check(config: Mapping[str, Any] | None) -> Params:
    """A PutBucketWebsite's WebsiteConfiguration, checked; returns it as S3 keeps it."""
    if config is None:
        raise errors.malformed_xml("Send a WebsiteConfiguration with an IndexDocument or a "
                                   "RedirectAllRequestsTo.")
    redirect_all = config.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if any(config.get(name) is not None for name in ("IndexDocument", "ErrorDocument",
                                                         "RoutingRules")):
            raise errors.invalid_argument("RedirectAllRequestsTo cannot be provided in conjunction "
                                          "with other Routing Rules. Send it alone, or drop it.",
                                          "RedirectAllRequestsTo", "not null")
        return {"RedirectAllRequestsTo": _check_redirect_all(redirect_all)}
    index = config.get("IndexDocument")
    if index is None:
        raise errors.invalid_argument("A value for IndexDocument Suffix must be provided if "
                                      "RedirectAllRequestsTo is empty", "IndexDocument", "null")
    suffix = index.get("Suffix") or ""
    if not suffix or "/" in suffix:
        raise errors.invalid_argument("The IndexDocument Suffix is not well formed: give a file name "
                                      "without a slash, such as index.html.", "IndexDocument",
                                      suffix or None)
    kept: Params = {"IndexDocument": {"Suffix": suffix}}
    error_document = config.get("ErrorDocument")
    if error_document is not None:
        if not error_document.get("Key"):
            raise errors.malformed_xml("An ErrorDocument needs a Key: the object served for 4XX "
                                       "errors.")
        kept["ErrorDocument"] = {"Key": error_document["Key"]}
    rules = config.get("RoutingRules")
    if rules is not None:
        kept["RoutingRules"] = _check_routing_rules(rules)
    return kept


def _check_redirect_all(redirect: Mapping[str, Any]) -> Params:
    host = redirect.get("HostName")
    if host is None:
        raise errors.malformed_xml("RedirectAllRequestsTo needs a HostName.")
    if not host:
        raise errors.invalid_argument('A host name must be provided to redirect all requests (e.g. '
                                      '"example.com").', "HostName", host)
    kept: Params = {"HostName": host}
    protocol = redirect.get("Protocol")
    if protocol is not None:
        if protocol not in PROTOCOLS:
            raise _bad_protocol()
        kept["Protocol"] = protocol
    return kept


def _check_routing_rules(rules: list[Any]) -> list[Params]:
    if not rules:
        raise errors.malformed_xml("RoutingRules needs at least one RoutingRule (or leave it out).")
    if len(rules) > MAX_ROUTING_RULES:
        raise errors.invalid_request(f"{len(rules)} routing rules provided, the number of routing rules "
                                     f"in a website configuration is limited to {MAX_ROUTING_RULES}.")
    return [_check_routing_rule(rule) for rule in rules]


def _check_routing_rule(rule: Mapping[str, Any]) -> Params:
    kept: Params = {}
    condition = rule.get("Condition")
    if condition is not None:
        kept_condition = {name: condition[name] for name in _CONDITION_MEMBERS
                          if condition.get(name) is not None}
        if not kept_condition:
            raise errors.invalid_request("Condition cannot be empty. To redirect all requests without "
                                         "a condition, the condition element shouldn't be present.")
        code = kept_condition.get("HttpErrorCodeReturnedEquals")
        if code is not None and not 400 <= _code(code) <= 599:
            raise errors.invalid_request(f"The provided HTTP error code ({code}) is not valid. Valid "
                                         "codes are 4XX or 5XX.")
        kept["Condition"] = kept_condition
    redirect = rule.get("Redirect")
    kept_redirect = {name: redirect[name] for name in _REDIRECT_MEMBERS
                     if redirect is not None and redirect.get(name) is not None}
    if not kept_redirect:
        raise errors.malformed_xml("Each RoutingRule needs a Redirect saying where to: a HostName, "
                                   "Protocol, HttpRedirectCode, ReplaceKeyWith or ReplaceKeyPrefixWith.")
    if "ReplaceKeyWith" in kept_redirect and "ReplaceKeyPrefixWith" in kept_redirect:
        raise errors.invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
    protocol = kept_redirect.get("Protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        raise _bad_protocol()
    code = kept_redirect.get("HttpRedirectCode")
    if code is not None and not 301 <= _code(code) <= 399:
        raise errors.invalid_request(f"The provided HTTP redirect code ({code}) is not valid. Valid "
                                     "codes are 3XX except 300.")
    kept["Redirect"] = kept_redirect
    return kept


def _code(text: str) -> int:
    """An HTTP status code given as text (the model's type for both codes)."""
    if not text.isascii() or not text.isdigit():
        raise errors.malformed_xml(f"An HTTP code is a number, not {text!r}.")
    return int(text)


# -- PutBucketWebsite / Get / Delete --------------------------------------------------------------


def put_bucket_website(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)  # PutBucketWebsite is requestChecksumRequired
    website = check(params.get("WebsiteConfiguration"))
    with bucket.lock:
        bucket.website = website
    return {}


def get_bucket_website(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    website = bucket.website
    if website is None:
        raise no_such_website_configuration(bucket.name)
    return copied(website)


def delete_bucket_website(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.website = None
    return {}
