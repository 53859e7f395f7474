"""Server-side encryption as S3 shows it (fakes3/s3/encryption.py): SSE-S3 on every object by
default, SSE-KMS as asked or as the bucket's default says, SSE-C objects readable only with their
key, and SSE-C blocked on new buckets since April 2026. Real boto3 clients; botocore base64-encodes
an SSE-C key and adds its MD5 itself, so malformed keys are sent with the headers rewritten."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from s3_callers import error_of

from fakes3 import FakeAWS

BUCKET = "sse-bkt"
KEY_A = b"A" * 32
KEY_B = b"B" * 32
ALLOW_SSE_C = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                          "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]}


def sse_c(key: bytes = KEY_A) -> dict[str, Any]:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_source_sse_c(key: bytes = KEY_A) -> dict[str, Any]:
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def key_md5(key: bytes) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def rule_of(s3: Any, bucket: str = BUCKET) -> dict[str, Any]:
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1
    return dict(rules[0])


@pytest.fixture
def s3(s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


@pytest.fixture
def sse_c_bucket(s3: Any) -> Any:
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration=ALLOW_SSE_C)
    return s3


# -- SSE-S3, every object's default ---------------------------------------------------------------


def test_every_object_says_it_is_encrypted_with_sse_s3_by_default(s3: Any) -> None:
    assert s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=BUCKET, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=BUCKET, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.copy_object(Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/k")["ServerSideEncryption"] \
        == "AES256"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m")
    assert upload["ServerSideEncryption"] == "AES256"
    part = s3.upload_part(Bucket=BUCKET, Key="m", UploadId=upload["UploadId"], PartNumber=1, Body=b"p")
    assert part["ServerSideEncryption"] == "AES256"
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key="m", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                    "ETag": part["ETag"]}]})
    assert done["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in s3.head_object(Bucket=BUCKET, Key="m")


def test_a_new_bucket_has_s3s_default_encryption_and_blocks_sse_c(s3: Any) -> None:
    assert rule_of(s3) == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                           "BucketKeyEnabled": False,
                           "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}


# -- SSE-KMS --------------------------------------------------------------------------------------


def test_sse_kms_echoes_the_key_as_an_arn_and_the_bucket_key_on_every_read(s3: Any) -> None:
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="1234abcd-12ab-34cd-56ef-1234567890ab", BucketKeyEnabled=True)
    arn = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for answer in (put, s3.get_object(Bucket=BUCKET, Key="k"), s3.head_object(Bucket=BUCKET, Key="k")):
        assert (answer["ServerSideEncryption"], answer["SSEKMSKeyId"], answer["BucketKeyEnabled"]) == \
            ("aws:kms", arn, True)
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"  # no key needed to read


def test_sse_kms_without_a_key_uses_the_accounts_aws_managed_key(s3: Any) -> None:
    first = s3.put_object(Bucket=BUCKET, Key="a", Body=b"v", ServerSideEncryption="aws:kms")
    second = s3.put_object(Bucket=BUCKET, Key="b", Body=b"v", ServerSideEncryption="aws:kms:dsse")
    assert first["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
    assert first["SSEKMSKeyId"] == second["SSEKMSKeyId"]
    assert second["ServerSideEncryption"] == "aws:kms:dsse"
    assert "BucketKeyEnabled" not in first


def test_a_bucket_default_of_sse_kms_applies_to_writes_that_ask_for_nothing(s3: Any) -> None:
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "my-key"},
        "BucketKeyEnabled": True}]})
    rule = rule_of(s3)
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": "my-key"}
    assert rule["BucketKeyEnabled"] is True
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}  # left as it was
    arn = "arn:aws:kms:us-east-1:000000000000:key/my-key"
    plain = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert (plain["ServerSideEncryption"], plain["SSEKMSKeyId"], plain["BucketKeyEnabled"]) == \
        ("aws:kms", arn, True)
    copied = s3.copy_object(Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/k")
    assert copied["SSEKMSKeyId"] == arn
    asked = s3.put_object(Bucket=BUCKET, Key="s3", Body=b"v", ServerSideEncryption="AES256")
    assert asked["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in asked
    s3.delete_bucket_encryption(Bucket=BUCKET)
    assert rule_of(s3)["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert s3.put_object(Bucket=BUCKET, Key="k2", Body=b"v")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=BUCKET, Key="k")["ServerSideEncryption"] == "aws:kms"  # kept


def test_a_copy_is_encrypted_as_its_request_says_not_as_its_source(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v", ServerSideEncryption="aws:kms")
    copied = s3.copy_object(Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/k")
    assert copied["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in copied
    # changing only the encryption is a change: an in-place copy is allowed
    again = s3.copy_object(Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/c",
                           ServerSideEncryption="aws:kms")
    assert again["ServerSideEncryption"] == "aws:kms"


@pytest.mark.parametrize(("request_kwargs", "argument"), [
    ({"SSEKMSKeyId": "my-key"}, "x-amz-server-side-encryption-aws-kms-key-id"),
    ({"ServerSideEncryption": "AES256", "SSEKMSKeyId": "my-key"}, "x-amz-server-side-encryption"),
    ({"ServerSideEncryption": "AES128"}, "x-amz-server-side-encryption"),
])
def test_encryption_headers_that_do_not_fit_are_refused_and_nothing_is_written(
        s3: Any, request_kwargs: dict[str, Any], argument: str) -> None:
    code, status, message = error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"v", **request_kwargs)
    assert (code, status) == ("InvalidArgument", 400)
    assert "aws:kms" in message
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_bucket_encryption_configurations_that_do_not_fit_are_refused(s3: Any) -> None:
    code, status, message = error_of(
        s3.put_bucket_encryption, Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]})
    assert (code, status) == ("InvalidArgument", 400) and "KMSMasterKeyID" in message
    code, status, _ = error_of(
        s3.put_bucket_encryption, Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]})
    assert (code, status) == ("MalformedXML", 400)
    code, status, _ = error_of(
        s3.put_bucket_encryption, Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
            "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C", "NONE"]}}]})
    assert (code, status) == ("InvalidArgument", 400)
    assert rule_of(s3)["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert error_of(s3.get_bucket_encryption, Bucket="no-such-bkt")[:2] == ("NoSuchBucket", 404)


@pytest.mark.parametrize("encryption", [{}, {"ServerSideEncryption": "aws:kms"}, sse_c()],
                         ids=["sse-s3", "sse-kms", "sse-c"])
def test_only_an_sse_s3_objects_etag_is_the_md5_of_its_bytes(sse_c_bucket: Any,
                                                             encryption: dict[str, Any]) -> None:
    """S3: "Objects encrypted by SSE-C or SSE-KMS have ETags that are not an MD5 digest of their
    object data" (Checking object integrity, S3 User Guide). Each is still one ETag, the same on
    every answer, and conditions match it."""
    s3 = sse_c_bucket
    read_key = {k: v for k, v in encryption.items() if k.startswith("SSECustomer")}
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"data", **encryption)["ETag"]
    etag_of_data = f'"{hashlib.md5(b"data").hexdigest()}"'
    assert (etag == etag_of_data) == (not encryption)
    assert s3.get_object(Bucket=BUCKET, Key="k", **read_key)["ETag"] == etag
    assert s3.head_object(Bucket=BUCKET, Key="k", IfMatch=etag, **read_key)["ETag"] == etag
    assert s3.list_objects_v2(Bucket=BUCKET)["Contents"][0]["ETag"] == etag
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m", **encryption)
    part = s3.upload_part(Bucket=BUCKET, Key="m", UploadId=upload["UploadId"], PartNumber=1,
                          Body=b"data", **read_key)
    assert (part["ETag"] == etag_of_data) == (not encryption)  # a part's too
    listed = s3.list_parts(Bucket=BUCKET, Key="m", UploadId=upload["UploadId"])["Parts"]
    assert [p["ETag"] for p in listed] == [part["ETag"]]
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key="m", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                    "ETag": part["ETag"]}]})
    md5_of_md5s = hashlib.md5(hashlib.md5(b"data").digest()).hexdigest()
    assert done["ETag"].endswith('-1"')
    assert (done["ETag"] == f'"{md5_of_md5s}-1"') == (not encryption)
    assert s3.head_object(Bucket=BUCKET, Key="m", **read_key)["ETag"] == done["ETag"]


# -- SSE-C ----------------------------------------------------------------------------------------


def test_a_new_bucket_refuses_sse_c_writes_until_they_are_allowed(s3: Any) -> None:
    code, status, message = error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"v", **sse_c())
    assert (code, status) == ("AccessDenied", 403) and "BlockedEncryptionTypes" in message
    assert error_of(s3.create_multipart_upload, Bucket=BUCKET, Key="m", **sse_c())[:2] == \
        ("AccessDenied", 403)
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration=ALLOW_SSE_C)
    assert rule_of(s3)["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v", **sse_c())
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", key_md5(KEY_A))
    assert "ServerSideEncryption" not in put
    # blocking again stops new SSE-C writes; what is stored stays readable with its key
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}]})
    assert error_of(s3.put_object, Bucket=BUCKET, Key="k2", Body=b"v", **sse_c())[:2] == \
        ("AccessDenied", 403)
    assert s3.get_object(Bucket=BUCKET, Key="k", **sse_c())["Body"].read() == b"v"


def test_an_sse_c_object_is_read_only_with_its_key(sse_c_bucket: Any) -> None:
    s3 = sse_c_bucket
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"secret", **sse_c())
    code, status, message = error_of(s3.get_object, Bucket=BUCKET, Key="k")
    assert (code, status) == ("InvalidRequest", 400) and "Server Side Encryption" in message
    assert error_of(s3.get_object, Bucket=BUCKET, Key="k", **sse_c(KEY_B))[:2] == ("AccessDenied", 403)
    assert error_of(s3.head_object, Bucket=BUCKET, Key="k")[1] == 400  # a HEAD's error has no body
    assert error_of(s3.head_object, Bucket=BUCKET, Key="k", **sse_c(KEY_B))[1] == 403
    got = s3.get_object(Bucket=BUCKET, Key="k", **sse_c())
    assert got["Body"].read() == b"secret"
    assert (got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]) == ("AES256", key_md5(KEY_A))
    assert s3.head_object(Bucket=BUCKET, Key="k", **sse_c())["ContentLength"] == 6
    # listing needs no key
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["k"]


def test_sse_c_headers_for_an_object_without_sse_c_are_refused(sse_c_bucket: Any) -> None:
    s3 = sse_c_bucket
    s3.put_object(Bucket=BUCKET, Key="plain", Body=b"v")
    code, status, message = error_of(s3.get_object, Bucket=BUCKET, Key="plain", **sse_c())
    assert (code, status, message) == ("InvalidRequest", 400,
                                       "The encryption parameters are not applicable to this object.")


def test_a_copy_of_an_sse_c_object_needs_the_sources_key(sse_c_bucket: Any) -> None:
    s3 = sse_c_bucket
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"secret", **sse_c())
    assert error_of(s3.copy_object, Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/k")[:2] == \
        ("InvalidRequest", 400)
    assert error_of(s3.copy_object, Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/k",
                    **copy_source_sse_c(KEY_B))[:2] == ("AccessDenied", 403)
    # decrypted with the source's key, encrypted again with another one
    s3.copy_object(Bucket=BUCKET, Key="c", CopySource=f"{BUCKET}/k", **copy_source_sse_c(),
                   **sse_c(KEY_B))
    assert s3.get_object(Bucket=BUCKET, Key="c", **sse_c(KEY_B))["Body"].read() == b"secret"
    # or stored with SSE-S3: readable without a key
    s3.copy_object(Bucket=BUCKET, Key="open", CopySource=f"{BUCKET}/k", **copy_source_sse_c())
    assert s3.get_object(Bucket=BUCKET, Key="open")["Body"].read() == b"secret"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m")
    assert error_of(s3.upload_part_copy, Bucket=BUCKET, Key="m", UploadId=upload["UploadId"],
                    PartNumber=1, CopySource=f"{BUCKET}/k")[:2] == ("InvalidRequest", 400)
    part = s3.upload_part_copy(Bucket=BUCKET, Key="m", UploadId=upload["UploadId"], PartNumber=1,
                               CopySource=f"{BUCKET}/k", **copy_source_sse_c())
    assert part["ServerSideEncryption"] == "AES256"


def test_every_part_of_an_sse_c_upload_sends_its_key(sse_c_bucket: Any) -> None:
    s3 = sse_c_bucket
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m", **sse_c())
    assert upload["SSECustomerKeyMD5"] == key_md5(KEY_A)
    upload_id = upload["UploadId"]
    code, status, message = error_of(s3.upload_part, Bucket=BUCKET, Key="m", UploadId=upload_id,
                                     PartNumber=1, Body=b"p")
    assert (code, status) == ("InvalidRequest", 400) and "Subsequent part requests" in message
    assert error_of(s3.upload_part, Bucket=BUCKET, Key="m", UploadId=upload_id, PartNumber=1,
                    Body=b"p", **sse_c(KEY_B))[:2] == ("InvalidArgument", 400)
    part = s3.upload_part(Bucket=BUCKET, Key="m", UploadId=upload_id, PartNumber=1, Body=b"part",
                          **sse_c())
    assert part["SSECustomerKeyMD5"] == key_md5(KEY_A)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key="m", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert "ServerSideEncryption" not in done
    assert error_of(s3.get_object, Bucket=BUCKET, Key="m")[:2] == ("InvalidRequest", 400)
    assert s3.get_object(Bucket=BUCKET, Key="m", **sse_c())["Body"].read() == b"part"


def test_sse_c_and_another_encryption_in_one_request_are_refused(sse_c_bucket: Any) -> None:
    code, status, message = error_of(sse_c_bucket.put_object, Bucket=BUCKET, Key="k", Body=b"v",
                                     ServerSideEncryption="AES256", **sse_c())
    assert (code, status) == ("InvalidArgument", 400) and "incompatible" in message


def _rewrite_headers(s3: Any, **headers: str) -> None:
    def rewrite(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers.replace_header(name, value) if name in request.headers \
                else request.headers.add_header(name, value)
    s3.meta.events.register_last("before-sign.s3", rewrite)


@pytest.mark.parametrize(("headers", "code", "message"), [
    ({"x-amz-server-side-encryption-customer-key-MD5": key_md5(KEY_B)}, "InvalidArgument",
     "The calculated MD5 hash of the key did not match the hash that was provided."),
    ({"x-amz-server-side-encryption-customer-key": base64.b64encode(b"short").decode(),
      "x-amz-server-side-encryption-customer-key-MD5": key_md5(b"short")}, "InvalidArgument",
     "The secret key was invalid for the specified algorithm."),
    ({"x-amz-server-side-encryption-customer-algorithm": "AES128"}, "InvalidEncryptionAlgorithmError",
     "The Encryption request you specified is not valid. Supported value: AES256."),
])
def test_malformed_sse_c_keys_are_refused_with_s3s_wording(
        sse_c_bucket: Any, headers: dict[str, str], code: str, message: str) -> None:
    _rewrite_headers(sse_c_bucket, **headers)
    got = error_of(sse_c_bucket.put_object, Bucket=BUCKET, Key="k", Body=b"v", **sse_c())
    assert (got[0], got[1]) == (code, 400) and got[2].startswith(message)
    sse_c_bucket.meta.events.unregister("before-sign.s3")


def test_an_sse_c_key_without_its_md5_is_refused(sse_c_bucket: Any) -> None:
    def drop_md5(request: Any, **_: Any) -> None:
        del request.headers["x-amz-server-side-encryption-customer-key-MD5"]
    sse_c_bucket.meta.events.register_last("before-sign.s3", drop_md5)
    code, status, message = error_of(sse_c_bucket.put_object, Bucket=BUCKET, Key="k", Body=b"v",
                                     **sse_c())
    assert (code, status) == ("InvalidArgument", 400) and "MD5 of the secret key" in message


# -- data dirs ------------------------------------------------------------------------------------


def test_encryption_survives_a_restart(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration=ALLOW_SSE_C)
        s3.put_object(Bucket=BUCKET, Key="c", Body=b"secret", **sse_c())
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"v", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="my-key")
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        assert rule_of(s3)["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
        assert error_of(s3.get_object, Bucket=BUCKET, Key="c")[:2] == ("InvalidRequest", 400)
        assert s3.get_object(Bucket=BUCKET, Key="c", **sse_c())["Body"].read() == b"secret"
        assert s3.head_object(Bucket=BUCKET, Key="k")["SSEKMSKeyId"].endswith(":key/my-key")


def test_a_bucket_from_an_older_data_dir_has_sse_s3_and_allows_sse_c(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        aws.client().create_bucket(Bucket=BUCKET)
    db = sqlite3.connect(tmp_path / "s3" / "metadata.sqlite3")
    with db:  # the bucket's settings as fakes3 wrote them before it had encryption
        for bid, settings in db.execute("SELECT id, settings FROM buckets").fetchall():
            record = json.loads(settings)
            del record["encryption"]
            db.execute("UPDATE buckets SET settings = ? WHERE id = ?", (json.dumps(record), bid))
    db.close()
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        assert rule_of(s3)["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"v", **sse_c())
        assert s3.get_object(Bucket=BUCKET, Key="k", **sse_c())["Body"].read() == b"v"
