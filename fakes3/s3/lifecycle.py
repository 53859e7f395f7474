"""S3 Lifecycle: Put/Get/DeleteBucketLifecycle(Configuration), and acting on the rules when asked.

S3 evaluates lifecycle rules in the background, about once a day, and acts on them within hours
to days (troubleshoot-lifecycle). A test can wait for neither: fakes3 acts when asked,
``S3Service.apply_lifecycle()`` (``aws.s3.apply_lifecycle()``) or ``POST
/_fakes3/s3/apply-lifecycle``, on the server's clock, so a test moves the clock days ahead and
sweeps. The configuration is checked as S3 checks it (lifecycle_rules.py) and kept in
``Bucket.lifecycle``.

A sweep, for each Enabled rule, as the user guide describes the actions (intro-lifecycle-rules,
lifecycle-expire-general-considerations, lifecycle-configuration-examples,
mpu-abort-incomplete-mpu-lifecycle-config):

* An action ``Days`` after a time falls due at the midnight UTC after that time plus the days
  (lifecycle_rules.due); a ``Date`` action from that date on, for every object it matches.
* Expiration of a current version: in a bucket never versioned the object goes; with versioning
  enabled a delete marker is added; suspended, a null delete marker replaces the null version.
  Nothing is done while the current version is a delete marker with other versions behind it.
* A delete marker that is the key's only version goes with ``ExpiredObjectDeleteMarker``, or
  once a ``Days`` Expiration's age is reached by the marker itself.
* NoncurrentVersionExpiration: a noncurrent version (delete markers too) goes ``NoncurrentDays``
  after it became noncurrent (when the next version was written), once at least
  ``NewerNoncurrentVersions`` newer noncurrent versions exist (the API reference: S3 keeps that
  many and deletes the rest).
* AbortIncompleteMultipartUpload: an upload goes ``DaysAfterInitiation`` after it began.
* Filters: prefix, tags (each key and value exactly; others may be present) and sizes (bounds
  exclusive) of the version at hand. A delete marker has no tags and size 0.
* Each key is judged on the versions as the sweep read them, so a delete marker left alone by
  this sweep's deletions goes at the next one (S3 also takes one action per object a day).
* Transitions are checked and kept but not acted on: every object stays STANDARD.

A write always wins a race with the sweep: each deletion is conditional on the key's versions
being exactly those the sweep read (model.Check, run under the key's lock), else it is skipped.
A permanent deletion Object Lock refuses (a retention period or a legal hold, judged at the
sweep's time; object_lock.guard) leaves the version, and is counted as ``refused``; S3's
lifecycle likewise never removes a protected version.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
from collections.abc import Sequence
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import ingest, object_lock, versioning
from fakes3.s3.lifecycle_rules import (
    Rule,
    check,
    due,
    no_such_configuration,
    rules_of,
)
from fakes3.s3.model import Backend, Bucket, ObjectVersion

Params = dict[str, Any]

# What a sweep answers: how many of each action it took.
EXPIRED = "expired"  # current versions removed, or hidden behind a new delete marker
DELETE_MARKERS_REMOVED = "delete_markers_removed"  # expired object delete markers
NONCURRENT_REMOVED = "noncurrent_versions_removed"
UPLOADS_ABORTED = "uploads_aborted"
REFUSED = "refused"  # deletions an S3Error refused (object lock): the version stays
COUNTS = (EXPIRED, DELETE_MARKERS_REMOVED, NONCURRENT_REMOVED, UPLOADS_ABORTED, REFUSED)

_sweeps = itertools.count(1)


# -- Put/Get/DeleteBucketLifecycle(Configuration) -------------------------------------------------


def put_bucket_lifecycle_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    """Creates the bucket's configuration or replaces it whole."""
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)
    config = check(params.get("LifecycleConfiguration"),
                   params.get("TransitionDefaultMinimumObjectSize"))
    with bucket.lock:
        bucket.lifecycle = config
    return {"TransitionDefaultMinimumObjectSize": config.minimum_object_size}


def get_bucket_lifecycle_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    config = bucket.lifecycle
    if config is None:
        raise no_such_configuration(bucket.name)
    return {"Rules": [dict(rule) for rule in config.rules],
            "TransitionDefaultMinimumObjectSize": config.minimum_object_size}


def delete_bucket_lifecycle(b: Backend, params: Params, ctx: RequestContext) -> Params:
    """204 whether or not there was a configuration (s3-tests' test_lifecycle_delete)."""
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.lifecycle = None
    return {}


# -- x-amz-expiration ------------------------------------------------------------------------------


def expiration_header(bucket: Bucket, version: ObjectVersion) -> str | None:
    """``x-amz-expiration`` for a current version: when the earliest Enabled Expiration rule that
    matches it falls due, and that rule's ID (API_HeadObject); None if none does."""
    config = bucket.lifecycle
    if config is None or version.delete_marker:
        return None
    found: tuple[dt.datetime, str] | None = None
    for rule in rules_of(config):
        if not rule.enabled or not rule.scope.matches(version.key, version.tags, version.size):
            continue
        when = _expiry(rule, version)
        if when is not None and (found is None or when < found[0]):
            found = (when, rule.id)
    if found is None:
        return None
    date = email.utils.format_datetime(found[0], usegmt=True)
    return f'expiry-date="{date}", rule-id="{found[1]}"'


def abort_date(bucket: Bucket, key: str, initiated: dt.datetime) -> dict[str, Any]:
    """``x-amz-abort-date`` and ``x-amz-abort-rule-id`` for an upload to ``key`` begun at
    ``initiated`` (CreateMultipartUpload, ListParts): the earliest Enabled
    AbortIncompleteMultipartUpload rule whose prefix holds the key; {} if none does."""
    config = bucket.lifecycle
    if config is None:
        return {}
    found = min(((due(initiated, rule.abort_days), rule.id) for rule in rules_of(config)
                 if rule.enabled and rule.abort_days is not None and key.startswith(rule.scope.prefix)),
                default=None)
    return {} if found is None else {"AbortDate": found[0], "AbortRuleId": found[1]}


def _expiry(rule: Rule, version: ObjectVersion) -> dt.datetime | None:
    if rule.expiration_days is not None:
        return due(version.last_modified, rule.expiration_days)
    return rule.expiration_date


# -- the sweep ------------------------------------------------------------------------------------


class _Changed(Exception):
    """The key's versions are no longer those the sweep read: the write wins."""


def apply(b: Backend, now: dt.datetime) -> dict[str, int]:
    """Act on every bucket's lifecycle rules as of ``now``; how many of each action were taken."""
    counts = dict.fromkeys(COUNTS, 0)
    for bucket in b.store.all():
        config = bucket.lifecycle
        if config is None:
            continue
        rules = [rule for rule in rules_of(config) if rule.enabled]
        if not rules:
            continue
        ctx = RequestContext(f"lifecycle-{next(_sweeps)}", account_id=bucket.account_id,
                             operation="S3.LIFECYCLE", resource=f"/{bucket.name}", now=now)
        with bucket.lock:
            keys = list(bucket.all_keys)
        for key in keys:
            _sweep_key(bucket, key, rules, now, ctx, counts)
        if any(rule.abort_days is not None for rule in rules):
            _abort_uploads(bucket, rules, now, counts)
    return counts


def _sweep_key(bucket: Bucket, key: str, rules: Sequence[Rule], now: dt.datetime,
               ctx: RequestContext, counts: dict[str, int]) -> None:
    seen = bucket.history(key)
    if not seen:
        return
    expected = list(seen)  # what the key holds if nothing but this sweep changes it
    # Noncurrent versions, newest first: each became noncurrent when the next one was written,
    # and has the noncurrent versions after it (before the current one) newer than it.
    for index in range(len(seen) - 2, -1, -1):
        version, successor = seen[index], seen[index + 1]
        newer_noncurrent = len(seen) - 2 - index
        if _noncurrent_due(rules, version, successor.last_modified, newer_noncurrent, now):
            if not _delete_version(bucket, key, version, expected, ctx, counts, NONCURRENT_REMOVED):
                return
            expected = [v for v in expected if v is not version]
    current = seen[-1]
    if current.delete_marker:
        if len(seen) == 1 and _lone_marker_due(rules, current, now):
            _delete_version(bucket, key, current, expected, ctx, counts, DELETE_MARKERS_REMOVED)
        return
    if any(_expires(rule, current, now) for rule in rules):
        _expire_current(bucket, key, expected, ctx, counts)


def _noncurrent_due(rules: Sequence[Rule], version: ObjectVersion, noncurrent_since: dt.datetime,
                    newer_noncurrent: int, now: dt.datetime) -> bool:
    for rule in rules:
        if rule.noncurrent_days is None:
            continue
        if rule.newer_noncurrent_versions is not None \
                and newer_noncurrent < rule.newer_noncurrent_versions:
            continue
        if now >= due(noncurrent_since, rule.noncurrent_days) \
                and rule.scope.matches(version.key, version.tags, version.size):
            return True
    return False


def _lone_marker_due(rules: Sequence[Rule], marker: ObjectVersion, now: dt.datetime) -> bool:
    for rule in rules:
        if not rule.scope.matches(marker.key, marker.tags, 0):
            continue
        if rule.expired_object_delete_marker:
            return True
        if rule.expiration_days is not None and now >= due(marker.last_modified,
                                                            rule.expiration_days):
            return True
    return False


def _expires(rule: Rule, version: ObjectVersion, now: dt.datetime) -> bool:
    when = _expiry(rule, version)
    return when is not None and now >= when \
        and rule.scope.matches(version.key, version.tags, version.size)


def _unchanged(bucket: Bucket, key: str, expected: list[ObjectVersion]) -> Any:
    """A model.Check: the key holds exactly ``expected`` (run under the key's lock, where no
    writer of the key can change its versions)."""
    def check(_current: ObjectVersion | None) -> None:
        now = bucket.history(key)
        if len(now) != len(expected) or any(a is not b for a, b in zip(now, expected, strict=True)):
            raise _Changed(key)
    return check


def _delete_version(bucket: Bucket, key: str, version: ObjectVersion,
                    expected: list[ObjectVersion], ctx: RequestContext, counts: dict[str, int],
                    counter: str) -> bool:
    """Delete one version for good; whether the key is still as expected afterwards."""
    try:
        versioning.delete(bucket, key, version.version_id, _unchanged(bucket, key, expected), ctx,
                          object_lock.guard(bucket, {}, ctx))
    except _Changed:
        return False
    except S3Error:
        counts[REFUSED] += 1  # object lock keeps it; the key is unchanged
        return True
    counts[counter] += 1
    return True


def _expire_current(bucket: Bucket, key: str, expected: list[ObjectVersion],
                    ctx: RequestContext, counts: dict[str, int]) -> None:
    """A DELETE without a version ID, as S3's Expiration action makes it: the object goes in a
    bucket never versioned, a delete marker hides it in a versioned one."""
    try:
        versioning.delete(bucket, key, None, _unchanged(bucket, key, expected), ctx)
    except _Changed:
        return
    except S3Error:
        counts[REFUSED] += 1
        return
    counts[EXPIRED] += 1


def _abort_uploads(bucket: Bucket, rules: Sequence[Rule], now: dt.datetime,
                   counts: dict[str, int]) -> None:
    registry = bucket.uploads
    if registry is None:
        return
    from fakes3.s3.multipart_state import ABORTED, Uploads  # the model's only view is a Protocol

    assert isinstance(registry, Uploads)
    with registry.lock:
        uploads = [registry.lookup(upload_id) for _, upload_id in registry.order]
    for upload in uploads:
        if not any(rule.abort_days is not None and upload.key.startswith(rule.scope.prefix)
                   and now >= due(upload.initiated, rule.abort_days) for rule in rules):
            continue
        try:  # conditional on the upload being the one read: its initiation time
            registry.abort(upload.upload_id, upload.key, upload.initiated)
        except S3Error:
            continue  # completed or aborted meanwhile
        if upload.state == ABORTED:
            counts[UPLOADS_ABORTED] += 1
