"""Event notification configuration: Put/GetBucketNotificationConfiguration, stored and checked.

Only the configuration is kept: no event is ever delivered (fakes3 has no SNS, SQS, Lambda or
EventBridge), and destinations are not looked up, as if every request sent
``x-amz-skip-destination-validation: true`` (S3 otherwise sends each destination a test event and
refuses ones it cannot reach).

Where each answer comes from (API_PutBucketNotificationConfiguration, the user guide's "Event
notification types and destinations" and "Configuring event notifications using object key name
filtering"; where AWS documents no wording, what S3 was recorded answering in LocalStack's
AWS-validated tests, MinIO's S3-compatible errors and user reports quoting S3):

* A bucket never configured answers an empty ``<NotificationConfiguration/>``; putting an empty one
  removes every configuration (there is no Delete operation).
* Each Topic, Queue and LambdaFunction configuration needs its ARN and one Event or more
  (MalformedXML). Events are S3's event types (400 InvalidArgument "A specified event is not
  supported for notifications."). The ARN is one of the destination's service (400
  InvalidArgument "The ARN could not be parsed"). A configuration sent without an Id gets one.
* Filter rules: Name prefix or suffix, any case, kept as "Prefix" / "Suffix" (400 InvalidArgument
  "filter rule name must be either prefix or suffix"); at most one of each (400 InvalidArgument
  "Cannot specify more than one prefix rule in a filter." / "... suffix ..."); values up to 1,024
  bytes of UTF-8 (400 InvalidArgument "Size of filter rule value cannot exceed 1024 bytes in UTF-8
  representation").
* Two configurations that share an event type (``s3:ObjectCreated:*`` covers every
  ``s3:ObjectCreated:...``) and whose prefixes and suffixes overlap are refused: 400
  InvalidArgument "Configuration is ambiguously defined. Cannot have overlapping suffixes in two
  rules if the prefixes are overlapping for the same event type."
* EventBridgeConfiguration, an empty element, is kept as sent.

Chosen where no source gives S3's answer: the ArgumentName of the event and ARN errors (the
member's name) and none on the overlap error; a Filter without rules is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors
from fakes3.s3.bucket_settings import copied, generated_id
from fakes3.s3.model import Backend

Params = dict[str, Any]

# S3's event types (botocore's Event enum).
EVENTS = frozenset({
    "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete", "s3:Replication:*", "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked", "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:LifecycleTransition",
    "s3:IntelligentTiering", "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
    "s3:ObjectAnnotation:*", "s3:ObjectAnnotation:Put", "s3:ObjectAnnotation:Delete",
    "s3:ObjectRetention:Put",
})
MAX_FILTER_VALUE = 1024  # bytes of UTF-8


class Kind(NamedTuple):
    """One list of destinations: its member, its ARN's member and the service the ARN names."""

    member: str
    arn: str
    service: str


KINDS = (Kind("TopicConfigurations", "TopicArn", "sns"),
         Kind("QueueConfigurations", "QueueArn", "sqs"),
         Kind("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"))
_ARN = {kind.service: re.compile(rf"arn:aws[a-z-]*:{kind.service}:[a-z0-9-]+:\d{{12}}:.+")
        for kind in KINDS}


def _argument(message: str, name: str, value: Any) -> S3Error:
    return errors.invalid_argument(message, name, value)


# -- checking a configuration ---------------------------------------------------------------------


class _Scope(NamedTuple):
    """What a configuration applies to, to tell whether two overlap."""

    events: frozenset[str]
    prefix: str
    suffix: str


def check(config: Mapping[str, Any] | None) -> Params:
    """A PutBucketNotificationConfiguration's document, checked; returns it as S3 keeps it."""
    kept: Params = {}
    scopes: list[_Scope] = []
    for kind in KINDS:
        given = (config or {}).get(kind.member)
        if given:
            kept[kind.member] = [_check_one(kind, one, scopes) for one in given]
    if config is not None and config.get("EventBridgeConfiguration") is not None:
        kept["EventBridgeConfiguration"] = {}
    return kept


def _check_one(kind: Kind, given: Mapping[str, Any], scopes: list[_Scope]) -> Params:
    arn, events = given.get(kind.arn), given.get("Events")
    if not arn or not events:
        raise errors.malformed_xml(f"Each of {kind.member} needs its {kind.arn} and one Event or more.")
    for event in events:
        if event not in EVENTS:
            raise _argument(f"A specified event is not supported for notifications. {event!r} is not "
                            "one of S3's event types, such as s3:ObjectCreated:*.", "Event", event)
    if not _ARN[kind.service].fullmatch(arn):
        raise _argument(f"The ARN could not be parsed. A {kind.arn} names the {kind.service} "
                        f"resource: arn:aws:{kind.service}:<region>:<account>:<name>.", kind.arn, arn)
    kept: Params = {"Id": given.get("Id") or generated_id(), kind.arn: arn,
                    "Events": list(dict.fromkeys(events))}
    rules = _check_filter_rules(((given.get("Filter") or {}).get("Key") or {}).get("FilterRules") or [])
    if rules:
        kept["Filter"] = {"Key": {"FilterRules": rules}}
    values = {rule["Name"]: rule["Value"] for rule in rules}
    scope = _Scope(frozenset(events), values.get("Prefix", ""), values.get("Suffix", ""))
    if any(_overlap(scope, other) for other in scopes):
        raise S3Error("InvalidArgument", "Configuration is ambiguously defined. Cannot have overlapping "
                      "suffixes in two rules if the prefixes are overlapping for the same event type. "
                      "Give the configurations different events, prefixes or suffixes.", 400)
    scopes.append(scope)
    return kept


def _check_filter_rules(rules: list[Any]) -> list[Params]:
    kept: list[Params] = []
    for rule in rules:
        name, value = rule.get("Name") or "", rule.get("Value") or ""
        canonical = name.lower().capitalize()
        if canonical not in ("Prefix", "Suffix"):
            raise _argument("filter rule name must be either prefix or suffix", name, value)
        if any(k["Name"] == canonical for k in kept):
            raise _argument(f"Cannot specify more than one {name.lower()} rule in a filter.", name, value)
        if len(value.encode("utf-8")) > MAX_FILTER_VALUE:
            raise _argument(f"Size of filter rule value cannot exceed {MAX_FILTER_VALUE} bytes in UTF-8 "
                            "representation", name, value)
        kept.append({"Name": canonical, "Value": value})
    return kept


def _overlap(one: _Scope, other: _Scope) -> bool:
    """Whether some event of some key would match both."""
    if not any(_covers(a, b) or _covers(b, a) for a in one.events for b in other.events):
        return False
    prefixes = one.prefix.startswith(other.prefix) or other.prefix.startswith(one.prefix)
    suffixes = one.suffix.endswith(other.suffix) or other.suffix.endswith(one.suffix)
    return prefixes and suffixes


def _covers(pattern: str, event: str) -> bool:
    if pattern == event:
        return True
    return pattern.endswith(":*") and event.startswith(pattern[:-1])


# -- PutBucketNotificationConfiguration / Get -----------------------------------------------------


def put_bucket_notification_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    # SkipDestinationValidation changes nothing here: destinations are never looked up.
    notifications = check(params.get("NotificationConfiguration"))
    with bucket.lock:
        bucket.notifications = notifications or None
    return {}


def get_bucket_notification_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    notifications = bucket.notifications
    return {} if notifications is None else copied(notifications)
