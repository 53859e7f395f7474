"""Checksums of multipart uploads: which algorithm and type an upload uses, and the object's value.

S3's rules ("Checking object integrity" in the S3 User Guide, and CreateMultipartUpload /
UploadPart / CompleteMultipartUpload in the API reference):

* CreateMultipartUpload names an algorithm (``x-amz-checksum-algorithm``) and optionally a type
  (``x-amz-checksum-type``). FULL_OBJECT is available for the CRCs only (they linearize: the CRC of
  the object follows from the parts' CRCs and lengths); COMPOSITE for every algorithm but
  CRC64NVME. Without a type, CRC64NVME is FULL_OBJECT and the others COMPOSITE. A type without an
  algorithm is refused.
* COMPOSITE: the object's checksum is the algorithm applied to the concatenated binary checksums
  of the parts, in order, suffixed ``-N`` (N parts). Every UploadPart must carry the upload's
  algorithm, and CompleteMultipartUpload must list each part's checksum.
* FULL_OBJECT: the checksum of the whole body, combined from the part CRCs (no second pass over
  the data). Parts may omit a checksum (S3 computes it); the client may send the object's value on
  CompleteMultipartUpload, which S3 verifies.
* An upload that names no algorithm gets S3's default: a full-object CRC64NVME, computed for each
  part and returned by UploadPart and CompleteMultipartUpload, but not kept with the object (HEAD,
  GET and ListParts do not show it). Its parts may carry any algorithm (SDKs add CRC32 to every
  UploadPart by default): that value is verified and returned.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awscrt import checksums as crt

from fakes3 import checksums
from fakes3.errors import S3Error
from fakes3.s3 import errors

COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"
FULL_OBJECT_ALGORITHMS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})

# algorithm -> (awscrt combine function, digest width in bytes)
_COMBINE: dict[str, tuple[Any, int]] = {
    "CRC32": (crt.combine_crc32, 4),
    "CRC32C": (crt.combine_crc32c, 4),
    "CRC64NVME": (crt.combine_crc64nvme, 8),
}


@dataclass(frozen=True, slots=True)
class Mode:
    """How an upload checksums: its algorithm, its type, and whether the client chose them."""

    algorithm: str
    type: str
    named: bool


DEFAULT_MODE = Mode(checksums.DEFAULT_ALGORITHM, FULL_OBJECT, named=False)


def supports(algorithm: str, kind: str) -> bool:
    if kind == FULL_OBJECT:
        return algorithm in FULL_OBJECT_ALGORITHMS
    return algorithm != "CRC64NVME"


def mode_for_create(params: Mapping[str, Any]) -> Mode:
    """The checksum mode CreateMultipartUpload asks for, or S3's refusal."""
    algorithm = params.get("ChecksumAlgorithm")
    kind = params.get("ChecksumType")
    if kind is not None:
        kind = str(kind).upper()
        if kind not in (COMPOSITE, FULL_OBJECT):
            raise errors.invalid_request(
                "Value for x-amz-checksum-type header is invalid. Use COMPOSITE or FULL_OBJECT."
            )
    if algorithm is None:
        if kind is not None:
            raise errors.invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
                "header."
            )
        return DEFAULT_MODE
    algorithm = str(algorithm).upper()
    if algorithm not in checksums.ALGORITHMS:
        raise errors.invalid_request(
            "Checksum algorithm provided is unsupported. Use one of "
            f"{', '.join(sorted(checksums.ALGORITHMS))}."
        )
    if kind is None:
        kind = FULL_OBJECT if algorithm == "CRC64NVME" else COMPOSITE
    if not supports(algorithm, kind):
        raise errors.invalid_request(
            f"The {kind} checksum type cannot be used with the {algorithm.lower()} checksum "
            "algorithm."
        )
    return Mode(algorithm, kind, named=True)


def announced(params: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """The algorithm an UploadPart request carries a checksum of: a value header, the SDK's
    algorithm header, or the trailer it announces (``x-amz-trailer``)."""
    sent = [alg for alg in sorted(checksums.ALGORITHMS)
            if params.get(checksums.param_name(alg)) is not None]
    if len(sent) > 1:
        checksums.requested(params)  # raises S3's error for several checksums
    if sent:
        return sent[0]
    if params.get("ChecksumAlgorithm") is not None:
        return str(params["ChecksumAlgorithm"]).upper()
    trailer = next((v for k, v in headers.items() if k.lower() == "x-amz-trailer"), None)
    if trailer and trailer.strip().lower().startswith("x-amz-checksum-"):
        return trailer.strip()[len("x-amz-checksum-"):].upper()
    return None


def type_mismatch(expected: str | None, actual: str | None) -> S3Error:
    return errors.invalid_request(
        "Checksum Type mismatch occurred, expected checksum Type: "
        f"{(expected or 'null').lower()}, actual checksum Type: {(actual or 'null').lower()}"
    )


def check_part_request(mode: Mode, algorithm: str | None) -> None:
    """UploadPart (or UploadPartCopy) must carry the checksum its upload expects."""
    if not mode.named:
        return  # S3's default: any algorithm is verified and returned
    if algorithm is not None and algorithm != mode.algorithm:
        raise type_mismatch(mode.algorithm, algorithm)
    if algorithm is None and mode.type == COMPOSITE:
        raise type_mismatch(mode.algorithm, None)


def check_complete_part(
    mode: Mode, upload_id: str, requested: Mapping[str, Any], stored: Mapping[str, str],
) -> None:
    """A part of CompleteMultipartUpload's list against the part that was uploaded."""
    number = requested.get("PartNumber")
    given = [(alg, str(requested[checksums.param_name(alg)])) for alg in sorted(checksums.ALGORITHMS)
             if requested.get(checksums.param_name(alg))]
    if len(given) > 1:
        raise errors.invalid_argument(
            "Invalid Base64 or multiple checksums present in request: send at most one checksum "
            f"per part (part {number} has {len(given)}).",
            "ChecksumAlgorithm",
            ",".join(alg for alg, _ in given),
        )
    for alg, value in given:
        if mode.named and alg != mode.algorithm:
            raise S3Error(
                "BadDigest",
                f"The {alg.lower()} you specified for part {number} did not match what we "
                f"received. This upload uses {mode.algorithm.lower()}.",
            )
        if stored.get(alg) != value:
            raise invalid_part(upload_id, number, requested.get("ETag"))
    if mode.named and mode.type == COMPOSITE and not given:
        raise errors.invalid_request(
            f"The upload was created using a {mode.algorithm.lower()} checksum. The complete "
            f"request must include the checksum for each part. It was missing for part {number} "
            "in the request."
        )


def invalid_part(upload_id: str, number: Any, etag: Any) -> S3Error:
    return S3Error(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
        400,
        fields={"UploadId": upload_id, "PartNumber": number, "ETag": etag},
    )


def full_object(algorithm: str, parts: Sequence[tuple[str, int]]) -> str:
    """The CRC of the whole object from each part's CRC (base64) and length."""
    combine, width = _COMBINE[algorithm]
    crc: int | None = None
    for value, size in parts:
        part = int.from_bytes(base64.b64decode(value), "big")
        crc = part if crc is None else combine(crc, part, size)
    return checksums.encode((crc or 0).to_bytes(width, "big"))


def composite(algorithm: str, values: Sequence[str]) -> str:
    """The checksum of the concatenated binary part checksums, suffixed ``-N``."""
    hasher = checksums.new_hasher(algorithm)
    for value in values:
        hasher.update(base64.b64decode(value))
    return f"{checksums.encode(hasher.digest())}-{len(values)}"


def object_checksum(mode: Mode, parts: Sequence[tuple[Mapping[str, str], int]]) -> str:
    """The object's checksum from its parts' (checksums, size), as ``mode`` defines it."""
    values = [sums[mode.algorithm] for sums, _ in parts]
    if mode.type == COMPOSITE:
        return composite(mode.algorithm, values)
    return full_object(mode.algorithm, [(v, size) for v, (_, size) in zip(values, parts, strict=True)])


def check_complete_request(mode: Mode, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """CompleteMultipartUpload's ChecksumType and object checksum header, before the parts are
    looked at; returns the (algorithm, value) the client sent for the object, if any."""
    kind = params.get("ChecksumType")
    if kind is not None and (not mode.named or str(kind).upper() != mode.type):
        raise errors.invalid_request(
            f"The upload was created using the {mode.type if mode.named else 'null'} checksum "
            "mode. The complete request must use the same checksum mode."
        )
    sent = [(alg, str(params[checksums.param_name(alg)])) for alg in sorted(checksums.ALGORITHMS)
            if params.get(checksums.param_name(alg)) is not None]
    if len(sent) > 1:
        raise errors.invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    if not sent:
        return None
    alg, value = sent[0]
    if alg != mode.algorithm:
        raise type_mismatch(mode.algorithm if mode.named else None, alg)
    return alg, value


def verify_object_checksum(mode: Mode, sent: tuple[str, str] | None, computed: str) -> None:
    """The object checksum the client sent on CompleteMultipartUpload must be S3's."""
    if sent is None:
        return
    value = sent[1].strip()
    if mode.type == COMPOSITE:
        matches = value == computed or value == computed.rsplit("-", 1)[0]
    else:
        matches = value == computed
    if not matches:
        raise checksums.mismatch(mode.algorithm)
