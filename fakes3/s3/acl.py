"""Access control lists: S3's grants, as canned ACLs, grant headers and AccessControlPolicy documents.

An ACL is stored as a tuple of grants ``(kind, grantee, permission)``: kind ``"id"`` (a canonical
user ID, as ``Owner.for_account`` derives them) or ``"uri"`` (a group: AllUsers, AuthenticatedUsers,
LogDelivery). ``()`` means the canned ``private``: the owner's FULL_CONTROL alone. Plain tuples of
strings, so a persisted bucket or object keeps its ACL as it is.

Behaviour as the S3 API reference and User Guide ("Access control list (ACL) overview") give it:

* Canned ACLs: ``private``, ``public-read`` (AllUsers READ), ``public-read-write`` (AllUsers READ
  and WRITE), ``authenticated-read`` (AuthenticatedUsers READ), and for buckets
  ``log-delivery-write``, for objects ``bucket-owner-read``, ``bucket-owner-full-control`` and
  ``aws-exec-read``; the owner always gets FULL_CONTROL. Another value is 400 InvalidArgument.
* A request gives an ACL one way only: a canned ACL with grant headers is 400 InvalidRequest; either
  with an AccessControlPolicy body is 400 UnexpectedContent; PutBucketAcl / PutObjectAcl with none of
  them is 400 MissingSecurityHeader.
* Grant headers (``x-amz-grant-read: uri="...", id="..."``) and document grantees name a canonical
  user ID or a group URI; an e-mail grantee is 400 UnresolvableGrantByEmailAddress (fakes3 has no
  e-mail addresses), an unknown group 400 InvalidArgument, a malformed document 400 MalformedACLError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fakes3.errors import S3Error
from fakes3.s3 import errors
from fakes3.s3.model import DISPLAY_NAME, Owner

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)

READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL = "READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"
PERMISSIONS = (FULL_CONTROL, WRITE, WRITE_ACP, READ, READ_ACP)

Grant = tuple[str, str, str]
Acl = tuple[Grant, ...]

BUCKET_CANNED = ("private", "public-read", "public-read-write", "authenticated-read", "log-delivery-write")
OBJECT_CANNED = ("private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
                 "bucket-owner-read", "bucket-owner-full-control")

# request member -> the permission its grant header gives
_GRANT_HEADERS = {
    "GrantFullControl": (FULL_CONTROL, "x-amz-grant-full-control"),
    "GrantWrite": (WRITE, "x-amz-grant-write"),
    "GrantWriteACP": (WRITE_ACP, "x-amz-grant-write-acp"),
    "GrantRead": (READ, "x-amz-grant-read"),
    "GrantReadACP": (READ_ACP, "x-amz-grant-read-acp"),
}
# Every request member that may set an ACL on a PUT (no AccessControlPolicy body there).
ACL_PARAMS = frozenset({"ACL", *_GRANT_HEADERS})
_GRANTEE = re.compile(r'\s*(?P<kind>[A-Za-z]+)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^,\s]*))\s*(?:,|$)')


def canned(name: str, owner_id: str, *, for_bucket: bool, bucket_owner_id: str | None = None) -> Acl:
    """The grants of a canned ACL (``x-amz-acl``)."""
    allowed = BUCKET_CANNED if for_bucket else OBJECT_CANNED
    if name not in allowed:
        raise errors.invalid_argument(
            f"The canned ACL {name!r} is not valid for a{' bucket' if for_bucket else 'n object'}. "
            f"Use one of: {', '.join(allowed)}.", "x-amz-acl", name)
    grants: list[Grant] = [("id", owner_id, FULL_CONTROL)]
    if name in ("public-read", "public-read-write"):
        grants.append(("uri", ALL_USERS, READ))
        if name == "public-read-write":
            grants.append(("uri", ALL_USERS, WRITE))
    elif name == "authenticated-read":
        grants.append(("uri", AUTHENTICATED_USERS, READ))
    elif name == "log-delivery-write":
        grants += [("uri", LOG_DELIVERY, WRITE), ("uri", LOG_DELIVERY, READ_ACP)]
    elif name in ("bucket-owner-read", "bucket-owner-full-control") and bucket_owner_id is not None \
            and bucket_owner_id != owner_id:
        grants.append(("id", bucket_owner_id, READ if name == "bucket-owner-read" else FULL_CONTROL))
    # aws-exec-read grants READ to Amazon EC2's own canonical user, which no fakes3 caller is.
    return tuple(grants)


def from_request(params: Mapping[str, Any], owner_id: str, *, for_bucket: bool,
                 bucket_owner_id: str | None = None, body_allowed: bool = False) -> Acl | None:
    """The ACL a request sets (CreateBucket, PutObject, Put*Acl, ...); None if it names none."""
    name = params.get("ACL")
    headers = {member: params[member] for member in _GRANT_HEADERS if params.get(member) is not None}
    document = params.get("AccessControlPolicy") if body_allowed else None
    if name is not None and headers:
        raise errors.invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if document is not None and (name is not None or headers):
        raise S3Error("UnexpectedContent", "This request does not support content: send the ACL as "
                      "x-amz-acl / x-amz-grant-* headers or as an AccessControlPolicy body, not both.", 400)
    if name is not None:
        return canned(name, owner_id, for_bucket=for_bucket, bucket_owner_id=bucket_owner_id)
    if headers:
        grants: list[Grant] = []
        for member, value in headers.items():
            permission, header = _GRANT_HEADERS[member]
            grants += [(kind, grantee, permission) for kind, grantee in _grantees(header, value)]
        return tuple(grants)
    if document is not None:
        return from_document(document)
    return None


def required(params: Mapping[str, Any], owner_id: str, *, for_bucket: bool,
             bucket_owner_id: str | None = None) -> Acl:
    """The ACL of a PutBucketAcl / PutObjectAcl, which must give one."""
    acl = from_request(params, owner_id, for_bucket=for_bucket, bucket_owner_id=bucket_owner_id,
                       body_allowed=True)
    if acl is None:
        raise S3Error("MissingSecurityHeader", "Your request was missing a required header: send "
                      "x-amz-acl, an x-amz-grant-* header or an AccessControlPolicy body.", 400,
                      fields={"MissingHeaderName": "x-amz-acl"})
    return acl


def _grantees(header: str, value: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = value.strip()
    while position < len(text):
        match = _GRANTEE.match(text, position)
        if match is None or match.end() == position:
            raise errors.invalid_argument(
                f"{header} must be a comma-separated list of id=\"...\", uri=\"...\" or "
                f"emailAddress=\"...\" grantees.", header, value)
        position = match.end()
        kind = match.group("kind").lower()
        grantee = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        out.append(_grantee(kind, grantee or "", header))
    return out


def _grantee(kind: str, value: str, where: str) -> tuple[str, str]:
    if kind == "emailaddress":
        raise S3Error("UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match "
                      "any account on record: fakes3 knows no e-mail addresses; grant by id or uri.", 400,
                      fields={"EmailAddressProvided": value})
    if kind == "uri":
        if value not in GROUPS:
            raise errors.invalid_argument(f"Invalid group uri: use one of {', '.join(GROUPS)}.", where, value)
        return "uri", value
    if kind == "id":
        if not value:
            raise errors.invalid_argument("Invalid id: a grantee id must not be empty.", where, value)
        return "id", value
    raise errors.invalid_argument(f"Unknown grantee type {kind!r}: use id, uri or emailAddress.", where, kind)


def malformed_acl(detail: str) -> S3Error:
    return S3Error("MalformedACLError", "The XML you provided was not well-formed or did not validate "
                   f"against our published schema. {detail}", 400)


def from_document(document: Mapping[str, Any]) -> Acl:
    """The grants of an AccessControlPolicy body (boto3's ``AccessControlPolicy={...}``)."""
    grants: list[Grant] = []
    for grant in document.get("Grants") or []:
        grantee = grant.get("Grantee") or {}
        permission = grant.get("Permission")
        if permission not in PERMISSIONS:
            raise malformed_acl(f"A Grant's Permission must be one of {', '.join(PERMISSIONS)}, "
                                f"not {permission!r}.")
        if grantee.get("URI") is not None:
            kind, value = "uri", grantee["URI"]
        elif grantee.get("ID") is not None:
            kind, value = "id", grantee["ID"]
        elif grantee.get("EmailAddress") is not None:
            kind, value = "emailaddress", grantee["EmailAddress"]
        else:
            raise malformed_acl("Every Grantee needs an ID, a URI or an EmailAddress.")
        grants.append((*_grantee(kind, str(value), "AccessControlPolicy"), str(permission)))
    return tuple(grants)


def effective(acl: Iterable[Iterable[str]], owner_id: str) -> Acl:
    """The grants in force: the stored ones, or the owner's FULL_CONTROL for ``()``."""
    grants = tuple((str(kind), str(grantee), str(permission)) for kind, grantee, permission in acl)
    return grants or (("id", owner_id, FULL_CONTROL),)


def document(acl: Iterable[Iterable[str]], owner: Owner) -> dict[str, Any]:
    """GetBucketAcl / GetObjectAcl's answer: the Owner and its Grants, as boto3 returns them."""
    grants = []
    for kind, grantee, permission in effective(acl, owner.id):
        if kind == "uri":
            who: dict[str, str] = {"Type": "Group", "URI": grantee}
        else:
            who = {"Type": "CanonicalUser", "ID": grantee, "DisplayName": DISPLAY_NAME}
        grants.append({"Grantee": who, "Permission": permission})
    return {"Owner": owner.to_dict(), "Grants": grants}


def permits(acl: Iterable[Iterable[str]], owner_id: str, caller_id: str | None, permission: str, *,
            ignore_public: bool = False) -> bool:
    """Whether the ACL gives ``permission`` to the caller (a canonical user ID; None: anonymous).
    ``ignore_public``: grants to AllUsers and AuthenticatedUsers count for nothing (IgnorePublicAcls)."""
    for kind, grantee, granted in effective(acl, owner_id):
        if granted != permission and granted != FULL_CONTROL:
            continue
        if kind == "uri" and ignore_public:
            continue
        if kind == "uri" and (grantee == ALL_USERS or (grantee == AUTHENTICATED_USERS and caller_id)):
            return True
        if kind == "id" and caller_id is not None and grantee == caller_id:
            return True
    return False


def is_public(acl: Iterable[Iterable[str]], owner_id: str) -> bool:
    """Whether the ACL grants anything to everyone (AllUsers or AuthenticatedUsers)."""
    return any(kind == "uri" and grantee in (ALL_USERS, AUTHENTICATED_USERS)
               for kind, grantee, _ in effective(acl, owner_id))
