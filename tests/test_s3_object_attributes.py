"""GetObjectAttributes through real clients (boto3 and the AWS CLI): only the attributes asked for,
unquoted ETags, checksums without a COMPOSITE "-N", ObjectParts as S3 lists them, versions and
delete markers as GetObject answers them, SSE-C keys, and who may ask."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.config
import pytest
from botocore.exceptions import ClientError
from s3_callers import denied, error_of

from fakes3 import FakeAWS

BUCKET = "attrs-bkt"
EVERY = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
SMALL = 1024  # the minimum part size of the small-part server
KEY_A = b"A" * 32
KEY_B = b"B" * 32


@pytest.fixture(scope="module")
def small_server() -> Iterator[FakeAWS]:
    with FakeAWS(min_part_size=SMALL) as aws:
        yield aws


@pytest.fixture
def mp(small_server: FakeAWS) -> Iterator[Any]:
    """A client of a server whose parts may be 1 KiB (multipart objects cost no MiBs)."""
    s3 = small_server.client("s3", config=botocore.config.Config(retries={"max_attempts": 1}))
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    small_server.reset()


@pytest.fixture
def s3(s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


def attributes(s3: Any, key: str, names: list[str] = EVERY, **kwargs: Any) -> dict[str, Any]:
    out = s3.get_object_attributes(Bucket=BUCKET, Key=key, ObjectAttributes=names, **kwargs)
    out.pop("ResponseMetadata")
    return out


def headers_of(err: pytest.ExceptionInfo[ClientError]) -> dict[str, str]:
    return err.value.response["ResponseMetadata"]["HTTPHeaders"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def sse_c_headers(key: bytes) -> dict[str, str]:
    """SSE-C members as GetObjectAttributes takes them: botocore base64-encodes the key and adds its
    MD5 for GetObject and HeadObject, not for this operation."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": b64(key),
            "SSECustomerKeyMD5": b64(hashlib.md5(key).digest())}


def complete(s3: Any, key: str, bodies: list[bytes], **create: Any) -> dict[str, Any]:
    """A completed multipart object of ``bodies``; each UploadPart's answer under "Uploaded"."""
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key, **create)["UploadId"]
    algorithm = create.get("ChecksumAlgorithm")
    sent = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    uploaded, listed = [], []
    for number, body in enumerate(bodies, 1):
        out = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=number, Body=body,
                             **sent)
        uploaded.append(out)
        entry = {"PartNumber": number, "ETag": out["ETag"]}
        if algorithm:
            entry[f"Checksum{algorithm}"] = out[f"Checksum{algorithm}"]
        listed.append(entry)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": listed})
    return {**done, "Uploaded": uploaded}


# -- what comes back ------------------------------------------------------------------------------


def test_only_the_attributes_asked_for_come_back_and_the_etag_has_no_quotes(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"hello")
    head = s3.head_object(Bucket=BUCKET, Key="k")
    got = attributes(s3, "k", ["ETag", "ObjectSize"])
    assert got == {"LastModified": head["LastModified"],
                   "ETag": hashlib.md5(b"hello").hexdigest(), "ObjectSize": 5}
    assert head["ETag"] == f'"{got["ETag"]}"'  # HeadObject quotes it, GetObjectAttributes does not
    assert set(attributes(s3, "k", ["StorageClass"])) == {"LastModified", "StorageClass"}


def test_storage_class_is_sent_even_for_standard_objects(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="std", Body=b"v")
    s3.put_object(Bucket=BUCKET, Key="ia", Body=b"v", StorageClass="STANDARD_IA")
    assert "StorageClass" not in s3.head_object(Bucket=BUCKET, Key="std")  # HeadObject omits it
    assert attributes(s3, "std", ["StorageClass"])["StorageClass"] == "STANDARD"
    assert attributes(s3, "ia", ["StorageClass"])["StorageClass"] == "STANDARD_IA"


@pytest.mark.parametrize("names", [["Bogus"], ["ETag", "etag"], ["ETag", "Size"]])
def test_an_attribute_name_s3_does_not_know_is_invalid_argument(s3: Any, names: list[str]) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    with pytest.raises(ClientError) as err:
        s3.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=names)
    error = err.value.response["Error"]
    assert (error["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
        ("InvalidArgument", 400)
    assert error["Message"].startswith("Invalid attribute name specified.")
    assert (error["ArgumentName"], error["ArgumentValue"]) == ("x-amz-object-attributes", names[-1])


def test_no_attribute_name_is_invalid_request(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    code, status, message = error_of(s3.get_object_attributes, Bucket=BUCKET, Key="k",
                                     ObjectAttributes=[""])
    assert (code, status) == ("InvalidRequest", 400)
    assert message.startswith("The x-amz-object-attributes header specifying the attributes to be "
                              "retrieved is either missing or empty")


def test_without_the_attributes_header_it_is_invalid_request_not_get_object(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")

    def drop_header(request: Any, **_: Any) -> None:
        del request.headers["x-amz-object-attributes"]
    s3.meta.events.register_last("before-sign.s3.GetObjectAttributes", drop_header)
    code, status, _ = error_of(s3.get_object_attributes, Bucket=BUCKET, Key="k",
                               ObjectAttributes=["ETag"])
    assert (code, status) == ("InvalidRequest", 400)


def test_the_attribute_names_are_checked_after_the_bucket_and_before_the_key(s3: Any) -> None:
    assert error_of(s3.get_object_attributes, Bucket="no-such-bkt", Key="k",
                    ObjectAttributes=["Bogus"])[:2] == ("NoSuchBucket", 404)
    assert error_of(s3.get_object_attributes, Bucket=BUCKET, Key="missing",
                    ObjectAttributes=["Bogus"])[:2] == ("InvalidArgument", 400)
    assert error_of(s3.get_object_attributes, Bucket=BUCKET, Key="missing",
                    ObjectAttributes=["ETag"])[:2] == ("NoSuchKey", 404)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_a_single_part_objects_checksum_is_full_object_and_it_has_no_parts(
        s3: Any, algorithm: str) -> None:
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"some bytes", ChecksumAlgorithm=algorithm)
    got = attributes(s3, "k")
    assert got["Checksum"] == {f"Checksum{algorithm}": put[f"Checksum{algorithm}"],
                               "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in got  # S3 lists no parts for an object stored in one piece
    assert (got["ObjectSize"], got["StorageClass"]) == (10, "STANDARD")


# -- multipart objects ----------------------------------------------------------------------------


def test_a_composite_checksum_object_lists_its_parts_and_their_checksums(mp: Any) -> None:
    bodies = [b"a" * SMALL, b"b" * SMALL, b"c" * 10]
    done = complete(mp, "m", bodies, ChecksumAlgorithm="SHA256")
    assert done["ChecksumType"] == "COMPOSITE" and done["ChecksumSHA256"].endswith("-3")
    got = attributes(mp, "m")
    assert got["ETag"] == done["ETag"].strip('"') and got["ETag"].endswith("-3")
    # The object's value without HeadObject's "-3", as S3 sends it here.
    assert got["Checksum"] == {"ChecksumSHA256": done["ChecksumSHA256"].removesuffix("-3"),
                               "ChecksumType": "COMPOSITE"}
    assert got["ObjectParts"] == {
        "TotalPartsCount": 3, "PartNumberMarker": 0, "NextPartNumberMarker": 3, "MaxParts": 1000,
        "IsTruncated": False,
        "Parts": [{"PartNumber": n, "Size": len(body),
                   "ChecksumSHA256": done["Uploaded"][n - 1]["ChecksumSHA256"]}
                  for n, body in enumerate(bodies, 1)],
    }
    assert got["ObjectSize"] == sum(map(len, bodies))
    sha = b64(hashlib.sha256(b"c" * 10).digest())
    assert got["ObjectParts"]["Parts"][2]["ChecksumSHA256"] == sha


def test_the_parts_come_a_page_at_a_time(mp: Any) -> None:
    complete(mp, "m", [b"a" * SMALL, b"b" * SMALL, b"c"], ChecksumAlgorithm="CRC32C",
             ChecksumType="COMPOSITE")

    def page(**kwargs: Any) -> dict[str, Any]:
        return attributes(mp, "m", ["ObjectParts"], **kwargs)["ObjectParts"]

    first = page(MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    assert (first["IsTruncated"], first["NextPartNumberMarker"], first["MaxParts"]) == (True, 2, 2)
    rest = page(MaxParts=2, PartNumberMarker=first["NextPartNumberMarker"])
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(3, 1)]
    assert (rest["IsTruncated"], rest["PartNumberMarker"], rest["TotalPartsCount"]) == (False, 2, 3)
    past = page(PartNumberMarker=3)
    assert "Parts" not in past and (past["IsTruncated"], past["NextPartNumberMarker"]) == (False, 0)
    assert len(page(MaxParts=-1)["Parts"]) == 3  # S3 ignores an invalid x-amz-max-parts


@pytest.mark.parametrize("create", [{"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
                                    {"ChecksumAlgorithm": "CRC64NVME"}, {}],
                         ids=["crc32-full-object", "crc64nvme", "no-algorithm"])
def test_a_full_object_checksum_object_reports_only_its_part_count(mp: Any,
                                                                   create: dict[str, Any]) -> None:
    done = complete(mp, "m", [b"a" * SMALL, b"b"], **create)
    got = attributes(mp, "m", ["Checksum", "ObjectParts"], MaxParts=1)
    assert got["ObjectParts"] == {"TotalPartsCount": 2}  # no parts, no page: S3 lists COMPOSITE only
    algorithm = create.get("ChecksumAlgorithm")
    if algorithm is None:  # S3's default checksum is not kept with the object (as HeadObject shows)
        assert "Checksum" not in got
    else:
        assert got["Checksum"] == {f"Checksum{algorithm}": done[f"Checksum{algorithm}"],
                                   "ChecksumType": "FULL_OBJECT"}


def test_parts_copied_with_upload_part_copy_carry_their_checksums(mp: Any) -> None:
    source = bytes(range(256)) * 8
    mp.put_object(Bucket=BUCKET, Key="src", Body=source)
    uid = mp.create_multipart_upload(Bucket=BUCKET, Key="m", ChecksumAlgorithm="SHA1")["UploadId"]
    listed = []
    for number, byte_range in enumerate(["bytes=0-1023", "bytes=1024-2047"], 1):
        out = mp.upload_part_copy(Bucket=BUCKET, Key="m", UploadId=uid, PartNumber=number,
                                  CopySource={"Bucket": BUCKET, "Key": "src"},
                                  CopySourceRange=byte_range)["CopyPartResult"]
        listed.append({"PartNumber": number, "ETag": out["ETag"], "ChecksumSHA1": out["ChecksumSHA1"]})
    mp.complete_multipart_upload(Bucket=BUCKET, Key="m", UploadId=uid,
                                 MultipartUpload={"Parts": listed})
    parts = attributes(mp, "m", ["ObjectParts"])["ObjectParts"]["Parts"]
    assert [p["ChecksumSHA1"] for p in parts] == [
        b64(hashlib.sha1(source[:1024]).digest()), b64(hashlib.sha1(source[1024:]).digest())]


# -- versions and delete markers ------------------------------------------------------------------


def test_versions_are_read_as_get_object_reads_them(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=BUCKET, Key="k", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=BUCKET, Key="k", Body=b"newer")["VersionId"]
    assert attributes(s3, "k", ["ObjectSize"])["VersionId"] == new
    got = attributes(s3, "k", ["ETag", "ObjectSize"], VersionId=old)
    assert (got["VersionId"], got["ObjectSize"], got["ETag"]) == \
        (old, 3, hashlib.md5(b"old").hexdigest())
    other = s3.put_object(Bucket=BUCKET, Key="other", Body=b"x")["VersionId"]
    assert error_of(s3.get_object_attributes, Bucket=BUCKET, Key="k", VersionId=other,
                    ObjectAttributes=["ETag"])[:2] == ("NoSuchVersion", 404)


def test_an_unversioned_bucket_sends_no_version_id(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert "VersionId" not in attributes(s3, "k", ["ETag"])
    assert attributes(s3, "k", ["ETag"], VersionId="null")["VersionId"] == "null"


def test_a_delete_marker_is_no_such_key_and_naming_it_is_method_not_allowed(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    marker = s3.delete_object(Bucket=BUCKET, Key="k")["VersionId"]
    with pytest.raises(ClientError) as err:
        s3.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=["ETag"])
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert headers_of(err)["x-amz-delete-marker"] == "true"
    assert headers_of(err)["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as err:
        s3.get_object_attributes(Bucket=BUCKET, Key="k", VersionId=marker, ObjectAttributes=["ETag"])
    assert err.value.response["Error"]["Code"] == "MethodNotAllowed"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert headers_of(err)["x-amz-delete-marker"] == "true"
    assert "last-modified" in headers_of(err)


# -- encryption -----------------------------------------------------------------------------------


def test_an_sse_c_object_answers_only_with_its_key(s3: Any) -> None:
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"secret", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=KEY_A)
    code, status, message = error_of(s3.get_object_attributes, Bucket=BUCKET, Key="k",
                                     ObjectAttributes=["ETag"])
    assert (code, status) == ("InvalidRequest", 400) and "Server Side Encryption" in message
    assert error_of(s3.get_object_attributes, Bucket=BUCKET, Key="k", ObjectAttributes=["ETag"],
                    **sse_c_headers(KEY_B))[:2] == ("AccessDenied", 403)
    got = attributes(s3, "k", ["ETag", "ObjectSize"], **sse_c_headers(KEY_A))
    assert (got["ETag"], got["ObjectSize"]) == (put["ETag"].strip('"'), 6)
    assert got["ETag"] != hashlib.md5(b"secret").hexdigest()  # an SSE-C ETag is not the MD5


def test_an_sse_kms_objects_etag_is_the_one_head_object_shows(s3: Any) -> None:
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"data", ServerSideEncryption="aws:kms")
    assert attributes(s3, "k", ["ETag"])["ETag"] == put["ETag"].strip('"')
    assert put["ETag"].strip('"') != hashlib.md5(b"data").hexdigest()


# -- who may ask ----------------------------------------------------------------------------------


def test_the_expected_bucket_owner_must_own_the_bucket(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert attributes(s3, "k", ["ObjectSize"], ExpectedBucketOwner="000000000000")["ObjectSize"] == 1
    assert error_of(s3.get_object_attributes, Bucket=BUCKET, Key="k", ObjectAttributes=["ETag"],
                    ExpectedBucketOwner="111122223333")[:2] == ("AccessDenied", 403)


def test_callers_without_a_grant_are_refused(s3: Any, anon: Any, other: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    for caller in (anon, other):
        assert denied(caller.get_object_attributes, Bucket=BUCKET, Key="k",
                      ObjectAttributes=["ETag"])


def test_a_bucket_policy_can_grant_get_object_attributes(s3: Any, anon: Any) -> None:
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Action": ["s3:GetObject", "s3:GetObjectAttributes"]}]}))
    got = anon.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=["ObjectSize"])
    assert got["ObjectSize"] == 1


# -- the AWS CLI ----------------------------------------------------------------------------------


def test_aws_cli_get_object_attributes(s3: Any, aws_env: dict[str, str], tmp_path: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key="dir/k", Body=b"hello", ChecksumAlgorithm="SHA256")
    venv_aws = Path(sys.executable).with_name("aws")
    cli = str(venv_aws) if venv_aws.exists() else (shutil.which("aws") or "aws")
    env = {**os.environ, "AWS_CONFIG_FILE": str(tmp_path / "none" / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none" / "credentials"),
           "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_PROFILE", None)
    proc = subprocess.run(
        [cli, "s3api", "get-object-attributes", "--bucket", BUCKET, "--key", "dir/k",
         "--object-attributes", "ETag", "Checksum", "ObjectSize", "StorageClass"],
        env=env, capture_output=True, encoding="utf-8", timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["ETag"] == hashlib.md5(b"hello").hexdigest()
    assert got["Checksum"] == {"ChecksumSHA256": b64(hashlib.sha256(b"hello").digest()),
                               "ChecksumType": "FULL_OBJECT"}
    assert (got["ObjectSize"], got["StorageClass"]) == (5, "STANDARD")
    assert "LastModified" in got
