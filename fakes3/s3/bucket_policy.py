"""Bucket policies: the small, honest subset of the IAM policy language fakes3 evaluates.

Accepted (anything else is 400 MalformedPolicy, with S3's message and a sentence naming what
fakes3 does not support, so a policy is never silently half-applied):

* ``Version`` "2012-10-17" or "2008-10-17"; ``Id``; ``Statement``: one object or a list of them.
* Per statement: ``Sid``; ``Effect`` "Allow" or "Deny"; ``Principal`` "*" or ``{"AWS": ...}`` with
  "*", account IDs ("111122223333") or account root ARNs ("arn:aws:iam::111122223333:root"), one
  or a list; ``Action``: one or a list of the S3 actions in ``ACTIONS`` (``s3:GetObject``,
  ``s3:ListBucket``, ``s3:PutObject``, ``s3:DeleteObject``, ...), ``*`` and ``?`` wildcards allowed
  (``s3:*``, ``s3:Get*``); ``Resource``: one or a list of ``arn:aws:s3:::bucket`` and
  ``arn:aws:s3:::bucket/<key glob>`` (``*`` and ``?`` wildcards) of this bucket; ``Condition``:
  the operators and keys of ``policy_conditions`` (a malformed block, or an unknown operator, is
  MalformedPolicy).
* Not supported: ``NotPrincipal``, ``NotAction``, ``NotResource``, principals other than accounts
  (IAM users and roles, services, canonical users), actions fakes3 does not evaluate, and policy
  variables (``${aws:username}``) in Condition values.

S3's checks (its messages): invalid JSON ("This policy contains invalid Json"), missing Statement,
Effect, Principal, Action or Resource ("Missing required field ..."), "Invalid effect: X", "Invalid
principal in policy", "Policy has invalid action", "Policy has invalid resource" (another bucket,
or not an S3 ARN), "Action does not apply to any resource(s) in statement" (``s3:GetObject`` on
the bucket's ARN alone), at most 20 KB.

Evaluation, as IAM does it within one bucket policy: a statement applies when its principal,
action and resource match and its conditions hold; a matching Deny wins, then a matching Allow,
else the policy has no say (the ACL decides). The request's condition keys are asked for only
when a statement with a Condition is reached (``keys``: a function that builds them).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes3.errors import S3Error
from fakes3.s3.policy_conditions import Conditions, KeyLookup, restricts_to_fixed_values

ARN_PREFIX = "arn:aws:s3:::"
MAX_POLICY_BYTES = 20 * 1024
VERSIONS = ("2012-10-17", "2008-10-17")

# The actions fakes3 evaluates, by the resource they apply to.
OBJECT_ACTIONS = frozenset({
    "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
    "s3:DeleteObjectVersion", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    "s3:GetObjectAcl", "s3:GetObjectVersionAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging", "s3:GetObjectVersionTagging", "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes",
    "s3:PutObjectRetention", "s3:GetObjectRetention", "s3:PutObjectLegalHold", "s3:GetObjectLegalHold",
})
BUCKET_ACTIONS = frozenset({
    "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
    "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:PutBucketAcl", "s3:GetBucketVersioning",
    "s3:PutBucketVersioning", "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:DeleteBucket",
    "s3:PutBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration",
})
ACTIONS = OBJECT_ACTIONS | BUCKET_ACTIONS
_KNOWN_LOWER = {a.lower(): a for a in ACTIONS}

_STATEMENT_FIELDS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
_UNSUPPORTED_FIELDS = ("NotPrincipal", "NotAction", "NotResource")
_ACCOUNT = re.compile(r"\d{12}")
_ACCOUNT_ARN = re.compile(r"arn:aws:iam::(\d{12}):root")
_SUBSET = ("fakes3 evaluates a subset of the policy language: Principal \"*\" or {\"AWS\": account "
           "IDs}, S3 Actions, Resources of this bucket, Conditions.")

# The request's condition keys, built on demand (None: a policy evaluated without a request).
KeysFactory = Callable[[], KeyLookup] | None


def malformed(message: str, detail: str = "") -> S3Error:
    return S3Error("MalformedPolicy", message + (f" ({detail})" if detail else ""), 400)


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters (``/`` too), ``?`` one character."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.DOTALL)


@dataclass(frozen=True)
class Statement:
    allow: bool
    everyone: bool  # Principal "*": anyone, signed or not
    accounts: frozenset[str]
    actions: frozenset[str]
    resources: tuple[str, ...]  # ARN globs
    conditions: Conditions | None = None

    def names(self, account_id: str | None) -> bool:
        return self.everyone or (account_id is not None and account_id in self.accounts)

    def matches(self, account_id: str | None, action: str, arn: str) -> bool:
        return (action in self.actions and self.names(account_id)
                and any(_glob(r).fullmatch(arn) for r in self.resources))

    @property
    def public(self) -> bool:
        """An Allow to everyone that no condition limits to fixed principals, sources or networks."""
        if not (self.allow and self.everyone):
            return False
        return self.conditions is None or not any(
            restricts_to_fixed_values(c) for c in self.conditions.items)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def decide(self, account_id: str | None, action: str, arn: str, keys: KeysFactory = None) -> str | None:
        """"Deny", "Allow" or None (no statement applies). ``account_id`` None: anonymous."""
        holds = _ConditionCheck(keys)
        applying = [s for s in self.statements if s.matches(account_id, action, arn) and holds(s)]
        if any(not s.allow for s in applying):
            return "Deny"
        return "Allow" if applying else None

    def decide_every_key(self, account_id: str | None, action: str, bucket: str,
                         keys: KeysFactory = None) -> str | None:
        """As ``decide`` for every key of ``bucket`` at once (DeleteObjects): Deny if a Deny may
        touch any key, Allow only if an Allow covers them all."""
        prefix = f"{ARN_PREFIX}{bucket}/"
        holds = _ConditionCheck(keys)
        named = [s for s in self.statements if action in s.actions and s.names(account_id)]
        if any(not s.allow and any(_may_touch(r, prefix) for r in s.resources) and holds(s)
               for s in named):
            return "Deny"
        if any(s.allow and any(_covers(r, prefix) for r in s.resources) and holds(s) for s in named):
            return "Allow"
        return None

    @property
    def is_public(self) -> bool:
        """GetBucketPolicyStatus and BlockPublicPolicy: an Allow to every principal that no
        condition limits to fixed values (S3 User Guide, "The meaning of 'public'")."""
        return any(s.public for s in self.statements)


class _ConditionCheck:
    """Whether a statement's conditions hold; the request's keys are built at the first one."""

    __slots__ = ("_factory", "_keys")

    def __init__(self, factory: KeysFactory) -> None:
        self._factory = factory
        self._keys: KeyLookup | None = None

    def __call__(self, statement: Statement) -> bool:
        if statement.conditions is None:
            return True
        if self._keys is None:
            self._keys = self._factory() if self._factory is not None else _NO_KEYS
        return statement.conditions.hold(self._keys)


class _NoKeys:
    """A policy evaluated without a request: it has no condition keys at all."""

    def get(self, key: str) -> None:
        return None


_NO_KEYS = _NoKeys()


def _literal_prefix(pattern: str) -> tuple[str, str]:
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut], pattern[cut:]


def _covers(pattern: str, keys: str) -> bool:
    literal, rest = _literal_prefix(pattern)
    return rest == "*" and keys.startswith(literal)


def _may_touch(pattern: str, keys: str) -> bool:
    literal, rest = _literal_prefix(pattern)
    if not rest:
        return literal.startswith(keys)
    return literal.startswith(keys) or keys.startswith(literal)


@functools.lru_cache(maxsize=512)
def compiled(text: str, bucket: str) -> Policy:
    """``parse``, remembered: a bucket's policy is read on every request that is not the owner's."""
    return parse(text, bucket)


def parse(text: str, bucket: str) -> Policy:
    """Validate a PutBucketPolicy body for ``bucket``; raises MalformedPolicy."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise malformed("Policies must be less than 20 KB", f"this one is {len(text.encode())} bytes")
    if not text.lstrip().startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        document = json.loads(text)
    except ValueError:
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(document, dict):
        raise malformed("This policy contains invalid Json")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise malformed(f"Unknown field {unknown[0]}", "a policy has Version, Id and Statement")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise malformed("The policy must contain a valid version string",
                        f"use {VERSIONS[0]}, not {version!r}")
    if "Statement" not in document:
        raise malformed("Missing required field Statement")
    raw = document["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise malformed("Could not parse the policy: Statement is empty!")
    variables = version == "2012-10-17"  # policy variables exist from this version on
    return Policy(tuple(_statement(item, bucket, variables) for item in items))


def _strings(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise malformed(f"Policy has invalid {field.lower()}",
                        f"{field} must be a string or a list of strings")
    return items


def _statement(item: Any, bucket: str, variables: bool = True) -> Statement:
    if not isinstance(item, dict):
        raise malformed("This policy contains invalid Json", "each Statement must be an object")
    for name in _UNSUPPORTED_FIELDS:
        if name in item:
            raise malformed(f"fakes3 does not support {name} in bucket policies", _SUBSET)
    unknown = sorted(set(item) - _STATEMENT_FIELDS)
    if unknown:
        raise malformed(f"Unknown field {unknown[0]}")
    for name in ("Effect", "Principal", "Action", "Resource"):
        if name not in item:
            raise malformed(f"Missing required field {name}")
    effect = item["Effect"]
    if effect not in ("Allow", "Deny"):
        raise malformed(f"Invalid effect: {effect}")
    everyone, accounts = _principal(item["Principal"])
    named = _strings(item["Action"], "Action")
    resources = _strings(item["Resource"], "Resource")
    for resource in resources:
        _check_resource(resource, bucket)
    actions: set[str] = set()
    for action in named:
        expanded = _expand(action)
        # An action that can never meet a resource of the statement (s3:GetObject on the
        # bucket's ARN alone) is refused; a wildcard needs one of its actions to apply.
        if not any(_applies(a, r) for a in expanded for r in resources):
            raise malformed("Action does not apply to any resource(s) in statement",
                            f"{action} on {', '.join(resources)}")
        actions |= expanded
    conditions = Conditions.parse(item["Condition"], variables=variables) if "Condition" in item else None
    return Statement(effect == "Allow", everyone, frozenset(accounts), frozenset(actions),
                     tuple(resources), conditions)


def _principal(value: Any) -> tuple[bool, set[str]]:
    if value == "*":
        return True, set()
    if not isinstance(value, dict) or not value:
        raise malformed("Invalid principal in policy", _SUBSET)
    other = sorted(set(value) - {"AWS"})
    if other:
        raise malformed("Invalid principal in policy",
                        f"fakes3 does not support {other[0]} principals; {_SUBSET}")
    everyone, accounts = False, set()
    for name in _strings(value["AWS"], "Principal"):
        arn = _ACCOUNT_ARN.fullmatch(name)
        if name == "*":
            everyone = True
        elif _ACCOUNT.fullmatch(name) or arn:
            accounts.add(arn.group(1) if arn else name)
        else:
            raise malformed("Invalid principal in policy",
                            f"{name!r}: fakes3 knows accounts, not IAM users or roles; {_SUBSET}")
    return everyone, accounts


def _expand(action: str) -> set[str]:
    if "*" not in action and "?" not in action:
        known = _KNOWN_LOWER.get(action.lower())  # action names are case-insensitive
        if known is None:
            if not action.lower().startswith("s3:") or len(action) <= 3:
                raise malformed("Policy has invalid action", f"{action!r} is not an S3 action")
            raise malformed("Policy has invalid action",
                            f"fakes3 does not evaluate {action}; it knows {', '.join(sorted(ACTIONS))}")
        return {known}
    pattern = re.compile(_glob(action.lower()).pattern, re.DOTALL)
    found = {a for a in ACTIONS if pattern.fullmatch(a.lower())}
    if not found:
        raise malformed("Policy has invalid action", f"{action!r} matches no S3 action fakes3 evaluates")
    return found


def _check_resource(resource: str, bucket: str) -> None:
    if not resource.startswith(ARN_PREFIX):
        if resource == "*":
            raise malformed("Policy has invalid resource", f"name this bucket: {ARN_PREFIX}{bucket}")
        raise malformed("Policy has invalid resource", f"{resource!r} is not an S3 ARN ({ARN_PREFIX}...)")
    bucket_part = resource[len(ARN_PREFIX):].split("/", 1)[0]
    if not _glob(bucket_part).fullmatch(bucket):
        raise malformed("Policy has invalid resource",
                        f"{resource} names another bucket; a bucket policy covers {ARN_PREFIX}{bucket} only")


def _applies(action: str, resource: str) -> bool:
    """Whether the resource glob can name what the action acts on (an object or the bucket)."""
    tail = resource[len(ARN_PREFIX):]
    if action in OBJECT_ACTIONS:
        return "/" in tail or tail.endswith("*")
    return "/" not in tail
