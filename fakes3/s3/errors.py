"""The S3 errors the semantics layer raises, with S3's codes, statuses and <Error> fields.

Messages start with S3's own wording (clients and people search for it); where S3's text does
not say what to change, a second sentence does.
"""

from __future__ import annotations

from fakes3.errors import S3Error


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error(
        "NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": bucket}
    )


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def no_such_version(key: str, version_id: str) -> S3Error:
    return S3Error(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        fields={"Key": key, "VersionId": version_id},
    )


def invalid_argument(message: str, name: str, value: object) -> S3Error:
    return S3Error(
        "InvalidArgument",
        message,
        400,
        fields={"ArgumentName": name, "ArgumentValue": "" if value is None else str(value)},
    )


def invalid_request(message: str) -> S3Error:
    return S3Error("InvalidRequest", message, 400)


def malformed_xml(detail: str) -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        f"schema. {detail}",
        400,
    )


def key_too_long(key: str, limit: int) -> S3Error:
    size = len(key.encode("utf-8"))
    return S3Error(
        "KeyTooLongError",
        f"Your key is too long. Keys may be at most {limit} bytes of UTF-8; this one is {size}.",
        400,
        fields={"Size": size, "MaxSizeAllowed": limit},
    )


def entity_too_large(size: int, limit: int) -> S3Error:
    return S3Error(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size. Upload objects larger than "
        f"{limit} bytes with a multipart upload.",
        400,
        fields={"ProposedSize": size, "MaxSizeAllowed": limit},
    )


def precondition_failed(condition: str) -> S3Error:
    return S3Error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )
