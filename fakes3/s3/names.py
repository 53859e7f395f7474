"""Naming rules: general purpose bucket names, key length, location constraints, storage classes."""

from __future__ import annotations

import re

from fakes3.errors import S3Error
from fakes3.s3 import errors

MAX_KEY_BYTES = 1024

_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

# Region names as S3 spells them (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ...) and
# S3's legacy alias "EU" for eu-west-1.
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
LEGACY_LOCATIONS = {"EU": "eu-west-1"}

# Storage classes an ordinary PUT may name (the rest belong to Outposts, S3 Express, FSx, ...).
STORAGE_CLASSES = frozenset({
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR",
})
# Classes whose objects must be restored before a GET.
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid general purpose bucket name, or None if it is."""
    if not 3 <= len(name) <= 63:
        return f"Bucket names must be 3 to 63 characters long; this one has {len(name)}."
    if not _BUCKET_CHARS.fullmatch(name):
        return "Bucket names may contain only lowercase letters, digits, dots (.) and hyphens (-)."
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "Bucket names must begin and end with a letter or a digit."
    if ".." in name:
        return "Bucket names must not contain two adjacent dots."
    if _IP_ADDRESS.fullmatch(name):
        return "Bucket names must not be formatted as an IP address."
    for prefix in _FORBIDDEN_PREFIXES:
        if name.startswith(prefix):
            return f"Bucket names must not start with {prefix!r}."
    for suffix in _FORBIDDEN_SUFFIXES:
        if name.endswith(suffix):
            return f"Bucket names must not end with {suffix!r}."
    return None


def check_bucket_name(name: str) -> None:
    problem = bucket_name_problem(name)
    if problem is not None:
        raise S3Error(
            "InvalidBucketName",
            f"The specified bucket is not valid. {problem}",
            400,
            fields={"BucketName": name},
        )


def check_key(key: str) -> None:
    # A character is at most 4 UTF-8 bytes: short keys need no encoding.
    if len(key) * 4 > MAX_KEY_BYTES and len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise errors.key_too_long(key, MAX_KEY_BYTES)


def is_location(constraint: str) -> bool:
    return constraint in LEGACY_LOCATIONS or bool(_REGION.fullmatch(constraint))


def region_of(constraint: str | None) -> str:
    """The region a bucket lives in, from the LocationConstraint it was created with."""
    if not constraint:
        return "us-east-1"
    return LEGACY_LOCATIONS.get(constraint, constraint)


def check_storage_class(value: str | None) -> str:
    if value is None:
        return "STANDARD"
    if value not in STORAGE_CLASSES:
        raise S3Error(
            "InvalidStorageClass",
            f"The storage class you specified is not valid. Use one of "
            f"{', '.join(sorted(STORAGE_CLASSES))}.",
            400,
            fields={"StorageClassRequested": value},
        )
    return value
