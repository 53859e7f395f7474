"""S3 Lifecycle configurations: checking one as S3 checks it, and the rules the sweep acts on.

Where each behaviour comes from (AWS first; where AWS documents no answer, what S3 was recorded
answering, in LocalStack's AWS-validated snapshots, ceph s3-tests, and bug threads quoting S3):

* API_LifecycleRule, API_LifecycleRuleFilter, API_LifecycleExpiration,
  API_NoncurrentVersionExpiration, API_Transition and the user guide's "Lifecycle configuration
  elements" (intro-lifecycle-rules) and "Lifecycle filters" (intro-lifecycle-filters): at most
  1,000 rules, IDs of at most 255 characters, a Filter of exactly one predicate (or none), And of
  two or more, Days a positive integer, Date at midnight UTC, ExpiredObjectDeleteMarker not with
  Days or Date nor with a tag filter, AbortIncompleteMultipartUpload not with a tag filter,
  transitions to STANDARD_IA and ONEZONE_IA at 30 days or more, size bounds exclusive.
* The error table (ErrorResponses): InvalidRequest for no rule and for more than 1,000.
* Recorded answers: "ID length should not exceed allowed limit of 255" and "Rule ID must be unique.
  Found same ID for more than one rule" (InvalidArgument); "At least one action needs to be
  specified in a rule", "Filter element can only be used in Lifecycle V2.", "Base level prefix
  cannot be used in Lifecycle V2, prefixes are only supported in the Filter.", "NewerNoncurrentVersions
  element can only be used in Lifecycle V2.", "Found overlapping prefixes ... for same action type
  ...", "Duplicate Tag Keys are not allowed.", "... cannot be specified with Tags." / "... with
  Object Size.", the size-range wordings, "Invalid TransitionDefaultMinimumObjectSize found: ..."
  (InvalidRequest); "'Days' for Expiration action must be a positive integer", "'Date' must be at
  midnight GMT", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive
  integer", "'Days' in Transition action must be greater than or equal to 30 for storageClass
  ...", "'Days' in the Expiration action for filter '(prefix=...)' must be greater than 'Days' in
  the Transition action" (InvalidArgument); a bad Status, ExpiredObjectDeleteMarker with Days, two
  predicates in one Filter, a rule with neither Filter nor Prefix, NoncurrentVersionExpiration
  without NoncurrentDays (MalformedXML). A rule sent without an ID gets one: 48 characters of
  base64 holding a UUID, as S3 makes them.

Chosen where no source gives S3's answer (so a client learns what to change): an Expiration
with Days and Date, a rule with both Filter and Prefix (MalformedXML); the wording for
NewerNoncurrentVersions and DaysAfterInitiation below 1, negative transition days, a repeated
transition class and mixed dates and day counts. The order S3 requires between transition classes
(GLACIER 30 days after STANDARD_IA, say) is not checked.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fakes3.errors import S3Error
from fakes3.s3 import errors

MAX_RULES = 1000
MAX_ID = 255
MAX_SIZE = 1099511627776000  # the sizes' bound in S3's range messages (50 TB is documented)
ENABLED, DISABLED = "Enabled", "Disabled"
STORAGE_CLASSES = ("GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE",
                   "GLACIER_IR")
INFREQUENT_ACCESS = ("STANDARD_IA", "ONEZONE_IA")  # objects must be 30 days old to move there
MINIMUM_SIZES = ("all_storage_classes_128K", "varies_by_storage_class")
DEFAULT_MINIMUM_SIZE = "all_storage_classes_128K"  # what S3 answers when the PUT sent none
# The actions a rule may take, in the order S3 names them; a Lifecycle V1 configuration may not
# give two rules whose prefixes overlap the same kind.
ACTIONS = ("Expiration", "Transitions", "NoncurrentVersionTransitions",
           "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload")
_ACTION_NAMES = {"Transitions": "Transition", "NoncurrentVersionTransitions":
                 "NoncurrentVersionTransition"}

Document = Mapping[str, Any]


@dataclass(frozen=True)
class LifecycleConfiguration:
    """A bucket's configuration (``Bucket.lifecycle``): the rules as GetBucketLifecycleConfiguration
    answers them (each with its ID) and the transition default minimum object size."""

    rules: tuple[Document, ...]
    minimum_object_size: str = DEFAULT_MINIMUM_SIZE


# -- errors ---------------------------------------------------------------------------------------


def _malformed(detail: str) -> S3Error:
    return errors.malformed_xml(detail)


def _request(message: str) -> S3Error:
    return errors.invalid_request(message)


def _argument(message: str, name: str, value: Any) -> S3Error:
    return errors.invalid_argument(message, name, value)


def no_such_configuration(bucket: str) -> S3Error:
    return S3Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist",
                   404, fields={"BucketName": bucket})


# -- checking a configuration ---------------------------------------------------------------------


def minimum_object_size(value: str | None) -> str:
    """The ``x-amz-transition-default-minimum-object-size`` a PUT sent, checked."""
    if value is None:
        return DEFAULT_MINIMUM_SIZE
    if value not in MINIMUM_SIZES:
        raise _request(f"Invalid TransitionDefaultMinimumObjectSize found: {value}")
    return value


def check(config: Document | None, minimum_size: str | None = None) -> LifecycleConfiguration:
    """A PutBucketLifecycleConfiguration's document, checked as S3 checks it (the first fault
    found is the answer), with an ID given to each rule sent without one."""
    if config is None:
        raise _malformed("Send a LifecycleConfiguration document with one Rule or more.")
    size = minimum_object_size(minimum_size)
    rules = list(config.get("Rules") or [])
    if not rules:
        raise _request("At least one lifecycle rule must be specified.")
    if len(rules) > MAX_RULES:
        raise _request(f"The number of lifecycle rules must not exceed the allowed limit of "
                       f"{MAX_RULES} rules.")
    ids: set[str] = set()
    for rule in rules:
        rule_id = rule.get("ID")
        if not rule_id:
            continue
        if len(rule_id) > MAX_ID:
            raise _argument(f"ID length should not exceed allowed limit of {MAX_ID}", "ID", rule_id)
        if rule_id in ids:
            raise _argument("Rule ID must be unique. Found same ID for more than one rule", "ID",
                            rule_id)
        ids.add(rule_id)
    # A configuration is Lifecycle V2 if its first rule has a Filter; then every rule has one.
    v2 = "Filter" in rules[0]
    checked = [_check_rule(rule, v2) for rule in rules]
    if not v2:
        _check_overlaps(checked)
    return LifecycleConfiguration(tuple(_with_id(rule) for rule in checked), size)


def _with_id(rule: dict[str, Any]) -> dict[str, Any]:
    if rule.get("ID"):
        return rule
    # S3's own IDs: base64 of a lowercase hyphenated UUID, 48 characters.
    generated = base64.b64encode(str(uuid.uuid4()).encode()).decode()
    return {"ID": generated, **{k: v for k, v in rule.items() if k != "ID"}}


def _check_rule(rule: Document, v2: bool) -> dict[str, Any]:
    """One rule checked; returns it as it is kept (the members S3 knows, in S3's order)."""
    status = rule.get("Status")
    if status not in (ENABLED, DISABLED):
        raise _malformed(f"Status must be Enabled or Disabled, not {status!r}.")
    has_filter, has_prefix = "Filter" in rule, "Prefix" in rule
    if not has_filter and not has_prefix:
        raise _malformed("A rule needs a Filter (an empty one applies to every object), or in a "
                         "Lifecycle V1 configuration a Prefix.")
    if has_filter and has_prefix:
        raise _malformed("A rule has a Filter or a Prefix, not both: move the Prefix into the "
                         "Filter.")
    if v2 and has_prefix:
        raise _request("Base level prefix cannot be used in Lifecycle V2, prefixes are only "
                       "supported in the Filter.")
    if not v2 and has_filter:
        raise _request("Filter element can only be used in Lifecycle V2.")
    scope = parse_filter(rule["Filter"]) if has_filter else Filter(prefix=rule["Prefix"] or "")
    if not any(rule.get(action) is not None and rule.get(action) != [] for action in ACTIONS):
        raise _request("At least one action needs to be specified in a rule")
    expiration = rule.get("Expiration")
    if expiration is not None:
        _check_expiration(expiration, scope)
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None:
        _check_noncurrent(noncurrent, v2)
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        _check_abort(abort, scope)
    _check_transitions(rule, scope)
    _check_noncurrent_transitions(rule, scope, v2)
    kept: dict[str, Any] = {}
    if rule.get("ID"):
        kept["ID"] = rule["ID"]
    if has_filter:
        kept["Filter"] = rule["Filter"]
    else:
        kept["Prefix"] = rule["Prefix"] or ""
    kept["Status"] = status
    for name in ("Expiration", "Transitions", "NoncurrentVersionTransitions",
                 "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if name in rule:
            kept[name] = _utc_dates(rule[name])
    return kept


def _utc_dates(value: Any) -> Any:
    """Dates kept in UTC (a client may send midnight UTC written with another offset)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, Mapping):
        return {k: _utc_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utc_dates(v) for v in value]
    return value


def _at_midnight(when: dt.datetime, name: str = "Date") -> dt.datetime:
    utc = when.astimezone(dt.UTC) if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    if (utc.hour, utc.minute, utc.second, utc.microsecond) != (0, 0, 0, 0):
        raise _argument("'Date' must be at midnight GMT", name, utc.isoformat())
    return utc


def _check_expiration(expiration: Document, scope: Filter) -> None:
    given = [name for name in ("Date", "Days", "ExpiredObjectDeleteMarker") if name in expiration]
    if len(given) != 1:
        raise _malformed("An Expiration holds exactly one of Days, Date and "
                         "ExpiredObjectDeleteMarker: put ExpiredObjectDeleteMarker in a rule of "
                         "its own.")
    if "Days" in expiration and expiration["Days"] < 1:
        raise _argument("'Days' for Expiration action must be a positive integer", "Days",
                        expiration["Days"])
    if "Date" in expiration:
        _at_midnight(expiration["Date"])
    if "ExpiredObjectDeleteMarker" in expiration:
        if scope.tags:
            raise _request("ExpiredObjectDeleteMarker cannot be specified with Tags.")
        if scope.sized:
            raise _request("ExpiredObjectDeleteMarker cannot be specified with Object Size.")


def _check_noncurrent(noncurrent: Document, v2: bool) -> None:
    if "NoncurrentDays" not in noncurrent:
        raise _malformed("NoncurrentVersionExpiration needs NoncurrentDays.")
    if noncurrent["NoncurrentDays"] < 1:
        raise _argument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a "
                        "positive integer", "NoncurrentDays", noncurrent["NoncurrentDays"])
    _check_newer(noncurrent, v2)


def _check_newer(action: Document, v2: bool) -> None:
    newer = action.get("NewerNoncurrentVersions")
    if newer is None:
        return
    if not v2:
        raise _request("NewerNoncurrentVersions element can only be used in Lifecycle V2.")
    if newer < 1:
        raise _argument("'NewerNoncurrentVersions' must be a positive integer: how many noncurrent "
                        "versions to keep.", "NewerNoncurrentVersions", newer)


def _check_abort(abort: Document, scope: Filter) -> None:
    if "DaysAfterInitiation" not in abort:
        raise _malformed("AbortIncompleteMultipartUpload needs DaysAfterInitiation.")
    if abort["DaysAfterInitiation"] < 1:
        raise _argument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a "
                        "positive integer", "DaysAfterInitiation", abort["DaysAfterInitiation"])
    if scope.tags:
        raise _request("AbortIncompleteMultipartUpload cannot be specified with Tags.")
    if scope.sized:
        raise _request("AbortIncompleteMultipartUpload cannot be specified with Object Size.")


def _storage_class(action: Document, name: str) -> str:
    storage_class = action.get("StorageClass")
    if storage_class not in STORAGE_CLASSES:
        raise _malformed(f"A {name}'s StorageClass is one of {', '.join(STORAGE_CLASSES)}, not "
                         f"{storage_class!r}.")
    return str(storage_class)


def _check_transitions(rule: Document, scope: Filter) -> None:
    expiration = rule.get("Expiration") or {}
    dated, counted = "Date" in expiration, "Days" in expiration
    classes: set[str] = set()
    latest_days, latest_date = None, None
    for transition in rule.get("Transitions") or []:
        storage_class = _storage_class(transition, "Transition")
        if ("Days" in transition) == ("Date" in transition):
            raise _malformed("A Transition holds exactly one of Days and Date.")
        if "Date" in transition:
            when = _at_midnight(transition["Date"])
            latest_date = when if latest_date is None else max(latest_date, when)
            dated = True
        else:
            days = transition["Days"]
            if days < 0:
                raise _argument("'Days' in Transition action must be nonnegative", "Days", days)
            if storage_class in INFREQUENT_ACCESS and days < 30:
                raise _argument("'Days' in Transition action must be greater than or equal to 30 "
                                f"for storageClass '{storage_class}'", "Days", days)
            latest_days = days if latest_days is None else max(latest_days, days)
            counted = True
        if storage_class in classes:
            raise _argument("'StorageClass' must be different for 'Transition' actions in same "
                            f"'Rule' with filter '{scope.described}'", "StorageClass",
                            storage_class)
        classes.add(storage_class)
    if dated and counted:
        raise _request("Found mixed 'Date' and 'Days' based Expiration and Transition actions in "
                       f"lifecycle rule for filter '{scope.described}'")
    if latest_days is not None and "Days" in expiration and expiration["Days"] <= latest_days:
        raise _argument(f"'Days' in the Expiration action for filter '{scope.described}' must be "
                        "greater than 'Days' in the Transition action", "Days", expiration["Days"])
    if latest_date is not None and "Date" in expiration \
            and _at_midnight(expiration["Date"]) <= latest_date:
        raise _argument(f"'Date' in the Expiration action for filter '{scope.described}' must be "
                        "later than 'Date' in the Transition action", "Date",
                        expiration["Date"].isoformat())


def _check_noncurrent_transitions(rule: Document, scope: Filter, v2: bool) -> None:
    classes: set[str] = set()
    latest = None
    for transition in rule.get("NoncurrentVersionTransitions") or []:
        storage_class = _storage_class(transition, "NoncurrentVersionTransition")
        if "NoncurrentDays" not in transition:
            raise _malformed("A NoncurrentVersionTransition needs NoncurrentDays.")
        days = transition["NoncurrentDays"]
        if days < 0:
            raise _argument("'NoncurrentDays' in NoncurrentVersionTransition action must be "
                            "nonnegative", "NoncurrentDays", days)
        if storage_class in INFREQUENT_ACCESS and days < 30:
            raise _argument("'NoncurrentDays' in NoncurrentVersionTransition action must be greater "
                            f"than or equal to 30 for storageClass '{storage_class}'",
                            "NoncurrentDays", days)
        _check_newer(transition, v2)
        if storage_class in classes:
            raise _argument("'StorageClass' must be different for 'NoncurrentVersionTransition' "
                            f"actions in same 'Rule' with filter '{scope.described}'",
                            "StorageClass", storage_class)
        classes.add(storage_class)
        latest = days if latest is None else max(latest, days)
    expiration = rule.get("NoncurrentVersionExpiration") or {}
    if latest is not None and expiration.get("NoncurrentDays", latest + 1) <= latest:
        raise _argument("'NoncurrentDays' in the NoncurrentVersionExpiration action for filter "
                        f"'{scope.described}' must be greater than 'NoncurrentDays' in the "
                        "NoncurrentVersionTransition action", "NoncurrentDays",
                        expiration["NoncurrentDays"])


def _check_overlaps(rules: Sequence[Document]) -> None:
    """Lifecycle V1: no two rules whose prefixes overlap (one begins the other) may take the
    same kind of action. Sorted, a prefix that begins another begins its next neighbour."""
    for action in ACTIONS:
        prefixes = sorted(rule["Prefix"] for rule in rules if rule.get(action))
        for first, second in zip(prefixes, prefixes[1:], strict=False):
            if second.startswith(first):
                raise _request(f"Found overlapping prefixes '{first}' and '{second}' for same "
                               f"action type '{_ACTION_NAMES.get(action, action)}'")


# -- filters --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Which objects a rule applies to: all of its predicates hold (an empty one: every object)."""

    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    larger_than: int | None = None  # ObjectSizeGreaterThan: exclusive
    smaller_than: int | None = None  # ObjectSizeLessThan: exclusive

    @property
    def sized(self) -> bool:
        return self.larger_than is not None or self.smaller_than is not None

    @property
    def described(self) -> str:
        """The filter as S3's messages name it."""
        return f"(prefix={self.prefix})"

    def matches(self, key: str, tags: Mapping[str, str], size: int) -> bool:
        if not key.startswith(self.prefix):
            return False
        if self.larger_than is not None and size <= self.larger_than:
            return False
        if self.smaller_than is not None and size >= self.smaller_than:
            return False
        # Each tag must match key and value; an object's other tags do not matter.
        return all(tags.get(name) == value for name, value in self.tags)


_PREDICATES = ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And")


def parse_filter(given: Document) -> Filter:
    """A rule's Filter, checked: exactly one predicate (or none), And of two or more."""
    present = [name for name in _PREDICATES if name in given]
    if len(present) > 1:
        raise _malformed(f"A Filter holds one predicate, not {' and '.join(present)}: combine "
                         "them in an And.")
    if not present:
        return Filter()
    if "And" in given:
        both = given["And"]
        tags = [_tag(t) for t in both.get("Tags") or []]
        count = len(tags) + sum(name in both for name in ("Prefix", "ObjectSizeGreaterThan",
                                                          "ObjectSizeLessThan"))
        if count < 2:
            raise _malformed("An And combines two predicates or more; with one, put it in the "
                             "Filter itself.")
        if len({name for name, _ in tags}) != len(tags):
            raise _request("Duplicate Tag Keys are not allowed.")
        return _sized(Filter(both.get("Prefix") or "", tuple(tags)), both)
    if "Tag" in given:
        return Filter(tags=(_tag(given["Tag"]),))
    return _sized(Filter(prefix=given.get("Prefix") or ""), given)


def _tag(given: Document) -> tuple[str, str]:
    """A filter's tag. Without a Value it matches objects whose tag has none (the user guide's
    "Lifecycle filters"), which S3 stores as the empty value."""
    if not given.get("Key"):
        raise _malformed("A Tag in a Filter needs a Key of at least one character.")
    return given["Key"], given.get("Value") or ""


def _sized(scope: Filter, given: Document) -> Filter:
    larger, smaller = given.get("ObjectSizeGreaterThan"), given.get("ObjectSizeLessThan")
    if larger is not None and not 0 <= larger < MAX_SIZE:
        raise _request(f"'ObjectSizeGreaterThan' should be between 0 and {MAX_SIZE}.")
    if smaller is not None and not 1 <= smaller <= MAX_SIZE:
        raise _request(f"'ObjectSizeLessThan' should be between 1 and {MAX_SIZE}.")
    if larger is not None and smaller is not None and smaller <= larger:
        raise _request("'ObjectSizeLessThan' has to be a value greater than "
                       "'ObjectSizeGreaterThan'.")
    return Filter(scope.prefix, scope.tags, larger, smaller)


# -- the rules the sweep acts on ------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One kept rule, as the sweep reads it."""

    id: str
    enabled: bool
    scope: Filter
    expiration_days: int | None = None
    expiration_date: dt.datetime | None = None
    expired_object_delete_marker: bool = False
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None
    abort_days: int | None = None


def rules_of(config: LifecycleConfiguration) -> list[Rule]:
    """The configuration's rules, read from the documents kept (they were checked when put)."""
    out = []
    for doc in config.rules:
        scope = parse_filter(doc["Filter"]) if "Filter" in doc else Filter(doc.get("Prefix") or "")
        expiration = doc.get("Expiration") or {}
        noncurrent = doc.get("NoncurrentVersionExpiration") or {}
        abort = doc.get("AbortIncompleteMultipartUpload") or {}
        out.append(Rule(
            id=doc["ID"], enabled=doc["Status"] == ENABLED, scope=scope,
            expiration_days=expiration.get("Days"), expiration_date=expiration.get("Date"),
            expired_object_delete_marker=bool(expiration.get("ExpiredObjectDeleteMarker")),
            noncurrent_days=noncurrent.get("NoncurrentDays"),
            newer_noncurrent_versions=noncurrent.get("NewerNoncurrentVersions"),
            abort_days=abort.get("DaysAfterInitiation")))
    return out


def due(since: dt.datetime, days: int) -> dt.datetime:
    """When an action ``days`` after ``since`` falls due: S3 adds the days, then rounds up to the
    next midnight UTC (1/15 10:30 + 3 days is 1/19 00:00; intro-lifecycle-rules). A time already at
    midnight still moves to the next one, as MinIO reads the rule (AWS does not say)."""
    utc = since.astimezone(dt.UTC) if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)
    try:
        return utc.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=days + 1)
    except OverflowError:  # more days than a datetime reaches: never, for this fake
        return NEVER


NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)
