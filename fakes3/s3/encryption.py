"""Server-side encryption, as S3 shows it: what each object says it is encrypted with, the bucket's
default encryption, and SSE-C's keys. Nothing is encrypted for real (no byte on disk changes); what
a client can observe is modelled:

* Every object is encrypted. Without a request header it gets its bucket's default, SSE-S3
  (``AES256``) unless PutBucketEncryption set another; its responses carry
  ``x-amz-server-side-encryption`` (and, for SSE-KMS, the key's ARN and whether a bucket key was
  used).
* SSE-KMS (``aws:kms``, ``aws:kms:dsse``): the key ID is echoed as an ARN; without one, the account's
  AWS managed key ``aws/s3``. There is no KMS here, so any key ID is accepted.
* SSE-C: the object can be read (GET, HEAD, a copy's source, an upload's parts) only with the key
  it was written with: without one 400 InvalidRequest, with another 403 AccessDenied, and SSE-C
  headers on any other object 400 InvalidRequest. Like S3, only the key's MD5 is kept. S3 refuses
  SSE-C over plain HTTP; fakes3 serves plain HTTP and accepts it, as if it were HTTPS.
* Since April 2026 new buckets block SSE-C writes (403 AccessDenied) until PutBucketEncryption
  sets ``BlockedEncryptionTypes`` to ``NONE``. A bucket read back from a data dir written before
  fakes3 had this (``Bucket.encryption`` None) has SSE-S3 and allows SSE-C.

The wordings are S3's, as MinIO and other S3 implementations reproduce them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors
from fakes3.s3.model import Backend, Bucket

Params = dict[str, Any]

SSE_S3 = "AES256"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ALGORITHMS = (SSE_S3, *KMS_ALGORITHMS)
SSE_C = "SSE-C"  # BlockedEncryptionTypes' name for it
_SSE_C_KEY_BYTES = 32

# The request members that ask a write for an encryption, and a read or copy for SSE-C's key.
WRITE_PARAMS = frozenset({"ServerSideEncryption", "SSEKMSKeyId", "SSEKMSEncryptionContext",
                          "BucketKeyEnabled", "SSECustomerAlgorithm", "SSECustomerKey",
                          "SSECustomerKeyMD5"})


class CustomerKeyMembers(NamedTuple):
    """The request members that carry an SSE-C key, and the prefix of their headers' names."""

    algorithm: str
    key: str
    key_md5: str
    header: str


CUSTOMER = CustomerKeyMembers("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5",
                              "x-amz-server-side-encryption-customer-")
COPY_SOURCE_CUSTOMER = CustomerKeyMembers(
    "CopySourceSSECustomerAlgorithm", "CopySourceSSECustomerKey", "CopySourceSSECustomerKeyMD5",
    "x-amz-copy-source-server-side-encryption-customer-")


@dataclass(frozen=True, slots=True)
class Encryption:
    """How an object is encrypted (``ObjectVersion.encryption``; None there is SSE-S3)."""

    algorithm: str = SSE_S3  # AES256, aws:kms or aws:kms:dsse; AES256 for SSE-C too
    kms_key_id: str | None = None  # SSE-KMS: the key's ARN
    bucket_key: bool = False  # SSE-KMS: an S3 Bucket Key was used
    customer_key_md5: str | None = None  # SSE-C: the base64 MD5 of the customer's key


@dataclass(frozen=True, slots=True)
class BucketEncryption:
    """A bucket's default encryption (PutBucketEncryption) and whether it blocks SSE-C writes."""

    default: Encryption = Encryption()  # its kms_key_id as given, not yet an ARN
    block_sse_c: bool = True


NEW_BUCKET = BucketEncryption()  # SSE-S3, SSE-C blocked: a new bucket since April 2026
_SSE_S3_HEADERS: Mapping[str, Any] = {"ServerSideEncryption": SSE_S3}


# -- errors ---------------------------------------------------------------------------------------


def _argument(message: str, name: str, value: Any) -> S3Error:
    return errors.invalid_argument(message, name, value)


def _stored_with_sse_c() -> S3Error:
    return errors.invalid_request("The object was stored using a form of Server Side Encryption. "
                                  "The correct parameters must be provided to retrieve the object.")


def _not_applicable() -> S3Error:
    return errors.invalid_request("The encryption parameters are not applicable to this object.")


def _wrong_key() -> S3Error:
    return S3Error("AccessDenied", "Access Denied: the SSE-C key does not match the key the object "
                   "was written with. Send the same customer key.", 403)


# -- writes ---------------------------------------------------------------------------------------


def for_write(bucket: Bucket, params: Mapping[str, Any]) -> Encryption | None:
    """The encryption a PutObject, CopyObject, CreateMultipartUpload or POST upload asks for, else
    the bucket's default (None: SSE-S3)."""
    if WRITE_PARAMS.isdisjoint(params):  # the common write: the bucket's default
        return _bucket_default(bucket)
    get = params.get
    algorithm = get("ServerSideEncryption")
    md5 = customer_key_md5(params, CUSTOMER)
    if md5 is not None:
        if algorithm is not None:
            raise _argument("Server Side Encryption with Customer provided key is incompatible with "
                            "the encryption method specified. Send either x-amz-server-side-"
                            "encryption or the SSE-C headers.", "x-amz-server-side-encryption",
                            algorithm)
        if bucket.encryption is not None and bucket.encryption.block_sse_c:
            raise S3Error("AccessDenied", "Access Denied: this bucket blocks SSE-C writes, as new "
                          "buckets do since April 2026. Call put_bucket_encryption with "
                          "BlockedEncryptionTypes {'EncryptionType': ['NONE']} to allow them.", 403)
        return Encryption(customer_key_md5=md5)
    key_id = get("SSEKMSKeyId")
    if algorithm is None:
        if key_id is not None or get("SSEKMSEncryptionContext") is not None:
            raise _argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                            "x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption-"
                            "aws-kms-key-id", key_id)
        default = _bucket_default(bucket)
        if default is not None and get("BucketKeyEnabled") is not None:
            return replace(default, bucket_key=bool(get("BucketKeyEnabled")))
        return default
    if algorithm not in ALGORITHMS:
        raise _argument(f"The encryption method specified is not supported: {algorithm!r}. Use one "
                        f"of {', '.join(ALGORITHMS)}.", "x-amz-server-side-encryption", algorithm)
    if algorithm == SSE_S3:
        if key_id is not None:
            raise _argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                            "x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption",
                            algorithm)
        return None
    default = bucket.encryption.default if bucket.encryption is not None else None
    if key_id is None and default is not None and default.algorithm in KMS_ALGORITHMS:
        key_id = default.kms_key_id
    bucket_key = get("BucketKeyEnabled")
    if bucket_key is None:
        bucket_key = default is not None and default.bucket_key
    return Encryption(algorithm, kms_key_arn(key_id, bucket), bool(bucket_key))


def _bucket_default(bucket: Bucket) -> Encryption | None:
    """What an object written without encryption headers gets (None: SSE-S3)."""
    config = bucket.encryption
    if config is None or config.default.algorithm == SSE_S3:
        return None
    return replace(config.default, kms_key_id=kms_key_arn(config.default.kms_key_id, bucket))


def kms_key_arn(key_id: str | None, bucket: Bucket) -> str:
    """The ARN S3 shows for a KMS key ID, key ARN or alias; None: the account's ``aws/s3`` key."""
    if key_id and key_id.startswith("arn:"):
        return key_id
    prefix = f"arn:aws:kms:{bucket.region}:{bucket.account_id}:"
    if not key_id:  # a stable made-up key ID for the AWS managed key aws/s3, per account
        digest = hashlib.sha256(f"fakes3-aws/s3:{bucket.account_id}".encode()).hexdigest()
        key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return prefix + (key_id if key_id.startswith("alias/") else f"key/{key_id}")


def customer_key_md5(params: Mapping[str, Any], members: CustomerKeyMembers) -> str | None:
    """The checked base64 MD5 of the SSE-C key in ``members``, or None if the request sends none
    of them."""
    algorithm, key, md5 = params.get(members.algorithm), params.get(members.key), \
        params.get(members.key_md5)
    if algorithm is None and key is None and md5 is None:
        return None
    header = members.header
    if algorithm is None:
        raise _argument("Requests specifying Server Side Encryption with Customer provided keys must "
                        "provide a valid encryption algorithm.", header + "algorithm", None)
    if algorithm != SSE_S3:
        raise S3Error("InvalidEncryptionAlgorithmError", "The Encryption request you specified is "
                      "not valid. Supported value: AES256.", 400,
                      fields={"ArgumentName": header + "algorithm", "ArgumentValue": algorithm})
    if key is None:
        raise _argument("Requests specifying Server Side Encryption with Customer provided keys must "
                        "provide an appropriate secret key.", header + "key", None)
    try:
        raw = base64.b64decode(str(key), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _SSE_C_KEY_BYTES:
        raise _argument("The secret key was invalid for the specified algorithm. Send a 256-bit key, "
                        "base64-encoded.", header + "key", "<redacted>")
    if md5 is None:
        raise _argument("Requests specifying Server Side Encryption with Customer provided keys must "
                        "provide the client calculated MD5 of the secret key.", header + "key-MD5",
                        None)
    actual = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if md5 != actual:
        raise _argument("The calculated MD5 hash of the key did not match the hash that was provided.",
                        header + "key-MD5", md5)
    return actual


# -- reads ----------------------------------------------------------------------------------------


def check_key(encryption: Encryption | None, params: Mapping[str, Any],
              members: CustomerKeyMembers = CUSTOMER) -> None:
    """An SSE-C object is read only with its key; SSE-C headers for any other object are refused."""
    if encryption is None and members.algorithm not in params and members.key not in params \
            and members.key_md5 not in params:  # the common read: no SSE-C either side
        return
    md5 = customer_key_md5(params, members)
    stored = encryption.customer_key_md5 if encryption is not None else None
    if stored is None:
        if md5 is not None:
            raise _not_applicable()
    elif md5 is None:
        raise _stored_with_sse_c()
    elif md5 != stored:
        raise _wrong_key()


def check_part_key(upload_encryption: Encryption | None, params: Mapping[str, Any]) -> None:
    """An UploadPart (or UploadPartCopy's destination) of an upload begun with SSE-C sends its key."""
    md5 = customer_key_md5(params, CUSTOMER)
    stored = upload_encryption.customer_key_md5 if upload_encryption is not None else None
    if stored is None:
        if md5 is not None:
            raise errors.invalid_request("The encryption parameters are not applicable to this "
                                         "upload: it was not initiated with SSE-C.")
    elif md5 is None:
        raise errors.invalid_request("The multipart upload initiate requested encryption. Subsequent "
                                     "part requests must include the appropriate encryption "
                                     "parameters.")
    elif md5 != stored:
        raise _argument("The provided encryption parameters did not match the ones used originally.",
                        "x-amz-server-side-encryption-customer-key", "<redacted>")


def headers(encryption: Encryption | None, *, customer: bool = True) -> Mapping[str, Any]:
    """The response members that describe an object's encryption (``customer``: the SSE-C ones
    too; CompleteMultipartUpload has none)."""
    if encryption is None:
        return _SSE_S3_HEADERS
    if encryption.customer_key_md5 is not None:
        if not customer:
            return {}
        return {"SSECustomerAlgorithm": SSE_S3, "SSECustomerKeyMD5": encryption.customer_key_md5}
    out: Params = {"ServerSideEncryption": encryption.algorithm}
    if encryption.kms_key_id is not None:
        out["SSEKMSKeyId"] = encryption.kms_key_id
    if encryption.bucket_key:
        out["BucketKeyEnabled"] = True
    return out


# -- PutBucketEncryption / Get / Delete -----------------------------------------------------------


def put_bucket_encryption(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    rules = (params.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    if len(rules) != 1:
        raise errors.malformed_xml("ServerSideEncryptionConfiguration needs exactly one Rule.")
    rule = rules[0]
    given = rule.get("ApplyServerSideEncryptionByDefault")
    current = bucket.encryption or BucketEncryption(block_sse_c=False)
    default = current.default
    if given is not None:
        algorithm = given.get("SSEAlgorithm")
        key_id = given.get("KMSMasterKeyID")
        if algorithm not in ALGORITHMS:
            raise errors.malformed_xml(f"SSEAlgorithm {algorithm!r} is not one of "
                                       f"{', '.join(ALGORITHMS)}.")
        if key_id is not None and algorithm not in KMS_ALGORITHMS:
            raise _argument("a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                            "aws:kms or aws:kms:dsse", "ApplyServerSideEncryptionByDefault", key_id)
        default = Encryption(algorithm, key_id if algorithm in KMS_ALGORITHMS else None)
    if rule.get("BucketKeyEnabled") is not None:
        default = replace(default, bucket_key=bool(rule["BucketKeyEnabled"]))
    block = current.block_sse_c
    blocked = rule.get("BlockedEncryptionTypes")
    if blocked is not None:
        types = blocked.get("EncryptionType") or []
        if not types or any(t not in (SSE_C, "NONE") for t in types) or len(set(types)) != len(types) \
                or (SSE_C in types and "NONE" in types):
            raise _argument("BlockedEncryptionTypes takes one EncryptionType: SSE-C (block SSE-C "
                            "writes) or NONE (allow them).", "EncryptionType", ",".join(types))
        block = SSE_C in types
    with bucket.lock:
        bucket.encryption = BucketEncryption(default, block)
    return {}


def get_bucket_encryption(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    config = bucket.encryption or BucketEncryption(block_sse_c=False)
    default: Params = {"SSEAlgorithm": config.default.algorithm}
    if config.default.kms_key_id is not None:
        default["KMSMasterKeyID"] = config.default.kms_key_id
    rule = {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": config.default.bucket_key,
            "BlockedEncryptionTypes": {"EncryptionType": [SSE_C if config.block_sse_c else "NONE"]}}
    return {"ServerSideEncryptionConfiguration": {"Rules": [rule]}}


def delete_bucket_encryption(b: Backend, params: Params, ctx: RequestContext) -> Params:
    """Back to SSE-S3, S3's default for every bucket; whether SSE-C is blocked stays as it was."""
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        block = bucket.encryption.block_sse_c if bucket.encryption is not None else False
        bucket.encryption = BucketEncryption(block_sse_c=block)
    return {}
