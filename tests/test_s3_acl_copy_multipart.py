"""The ACL of an object made by CopyObject or by a multipart upload.

S3 API reference: CopyObject does not preserve the source's ACL ("the ACL metadata is not preserved
and is set to private by default"); the copy gets the x-amz-acl / x-amz-grant-* the request gives.
CreateMultipartUpload's ACL headers are those of the object CompleteMultipartUpload creates. Both
check the headers as PutObject does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from fakes3 import FakeAWS
from fakes3.s3.acl import ALL_USERS, AUTHENTICATED_USERS

BUCKET = "acl-copy-bkt"
NOBODY = "http://acs.amazonaws.com/groups/global/Nobody"
UNSIGNED_CONFIG = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})



def acls_enabled(s3: Any) -> None:
    """BUCKET with ACLs enabled and public ones allowed: what a user does on AWS, where a new bucket
    has ACLs disabled (BucketOwnerEnforced) and Block Public Access on."""
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=BUCKET)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    acls_enabled(s3_client)
    return BUCKET


def error_of(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def group_grants(s3: Any, key: str, **kwargs: Any) -> list[tuple[str, str]]:
    """(group URI, permission) of the object's grants; the owner's FULL_CONTROL is checked here."""
    acl = s3.get_object_acl(Bucket=BUCKET, Key=key, **kwargs)
    owner = acl["Owner"]["ID"]
    assert {"Grantee": {"Type": "CanonicalUser", "ID": owner, "DisplayName": acl["Owner"]["DisplayName"]},
            "Permission": "FULL_CONTROL"} in acl["Grants"]
    return [(g["Grantee"]["URI"], g["Permission"]) for g in acl["Grants"] if g["Grantee"]["Type"] == "Group"]


def anonymous_read(anon: Any, key: str) -> bytes | None:
    """The object's bytes for an unsigned GET, or None when it is refused."""
    try:
        return bytes(anon.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied"
        return None


def multipart(s3: Any, key: str, body: bytes = b"multipart body", **create: Any) -> dict[str, Any]:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, **create)["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=body)["ETag"]
    return dict(s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}))


# The ACL headers a PUT may carry that S3 refuses, and how (as PutObject answers them).
INVALID = [
    ({"ACL": "wide-open"}, ("InvalidArgument", 400)),
    ({"ACL": "log-delivery-write"}, ("InvalidArgument", 400)),  # a bucket's canned ACL only
    ({"ACL": "public-read", "GrantRead": f'uri="{ALL_USERS}"'}, ("InvalidRequest", 400)),
    ({"GrantRead": 'emailAddress="someone@example.com"'}, ("UnresolvableGrantByEmailAddress", 400)),
    ({"GrantRead": f'uri="{NOBODY}"'}, ("InvalidArgument", 400)),
    ({"GrantFullControl": 'id=""'}, ("InvalidArgument", 400)),
    ({"GrantReadACP": "nonsense"}, ("InvalidArgument", 400)),
]


# -- CopyObject ---------------------------------------------------------------------------------------


def test_copy_with_public_read_makes_a_public_copy(s3_client, bucket, anon):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3_client.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                          ACL="public-read")
    assert group_grants(s3_client, "dst") == [(ALL_USERS, "READ")]
    assert anonymous_read(anon, "dst") == b"source"
    assert anonymous_read(anon, "src") is None  # the source keeps its own (private) ACL
    assert group_grants(s3_client, "src") == []


def test_copy_without_an_acl_is_private_whatever_the_sources(s3_client, bucket, anon):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"source", ACL="public-read")
    assert anonymous_read(anon, "src") == b"source"
    s3_client.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert group_grants(s3_client, "dst") == []
    assert anonymous_read(anon, "dst") is None
    # Copying onto a public object replaces its ACL too.
    s3_client.put_object(Bucket=bucket, Key="was-public", Body=b"old", ACL="public-read")
    s3_client.copy_object(Bucket=bucket, Key="was-public", CopySource={"Bucket": bucket, "Key": "src"})
    assert anonymous_read(anon, "was-public") is None


def test_copy_with_grant_headers(s3_client, bucket, anon):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3_client.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                          GrantRead=f'uri="{ALL_USERS}", uri="{AUTHENTICATED_USERS}"',
                          GrantReadACP=f'uri="{ALL_USERS}"')
    assert anonymous_read(anon, "dst") == b"source"
    assert anon.get_object_acl(Bucket=bucket, Key="dst")["Grants"]  # READ_ACP for everyone
    grants = s3_client.get_object_acl(Bucket=bucket, Key="dst")["Grants"]
    # Grant headers are the whole ACL: the owner's FULL_CONTROL only when it is granted.
    assert [(g["Grantee"].get("URI"), g["Permission"]) for g in grants] == [
        (ALL_USERS, "READ"), (AUTHENTICATED_USERS, "READ"), (ALL_USERS, "READ_ACP")]


def test_a_copy_to_itself_can_change_the_acl_along_with_the_metadata(s3_client, bucket, anon):
    s3_client.put_object(Bucket=bucket, Key="k", Body=b"same")
    s3_client.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                          MetadataDirective="REPLACE", ACL="public-read")
    assert anonymous_read(anon, "k") == b"same"


def test_a_copy_in_a_versioned_bucket_gets_its_acl_on_the_new_version(s3_client, bucket, anon):
    s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3_client.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    new = s3_client.copy_object(Bucket=bucket, Key="k", ACL="public-read",
                                CopySource={"Bucket": bucket, "Key": "k", "VersionId": old})["VersionId"]
    assert group_grants(s3_client, "k", VersionId=new) == [(ALL_USERS, "READ")]
    assert group_grants(s3_client, "k", VersionId=old) == []
    assert anonymous_read(anon, "k") == b"v1"


@pytest.mark.parametrize(("headers", "expected"), INVALID, ids=lambda v: str(v))
def test_copy_refuses_invalid_acls_as_put_object_does(s3_client, bucket, headers, expected):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"source")
    assert error_of(s3_client.put_object, Bucket=bucket, Key="put", Body=b"x", **headers) == expected
    assert error_of(s3_client.copy_object, Bucket=bucket, Key="dst",
                    CopySource={"Bucket": bucket, "Key": "src"}, **headers) == expected
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["src"]


# -- multipart uploads --------------------------------------------------------------------------------


def test_a_multipart_upload_created_public_read_completes_into_a_public_object(s3_client, bucket, anon):
    multipart(s3_client, "mpu", ACL="public-read")
    assert group_grants(s3_client, "mpu") == [(ALL_USERS, "READ")]
    assert anonymous_read(anon, "mpu") == b"multipart body"


def test_a_multipart_upload_without_an_acl_completes_into_a_private_object(s3_client, bucket, anon):
    s3_client.put_object(Bucket=bucket, Key="mpu", Body=b"old", ACL="public-read")
    multipart(s3_client, "mpu")
    assert group_grants(s3_client, "mpu") == []
    assert anonymous_read(anon, "mpu") is None


def test_a_multipart_upload_with_grant_headers(s3_client, bucket, anon):
    owner = s3_client.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    multipart(s3_client, "mpu", GrantFullControl=f'id="{owner}"', GrantRead=f'uri="{AUTHENTICATED_USERS}"')
    grants = s3_client.get_object_acl(Bucket=bucket, Key="mpu")["Grants"]
    assert [(g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"]) for g in grants] == [
        (owner, "FULL_CONTROL"), (AUTHENTICATED_USERS, "READ")]
    assert anonymous_read(anon, "mpu") is None  # AuthenticatedUsers: signed requests only


def test_upload_part_copy_does_not_bring_the_sources_acl(s3_client, bucket, anon):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"public source", ACL="public-read")
    upload_id = s3_client.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    etag = s3_client.upload_part_copy(Bucket=bucket, Key="mpu", UploadId=upload_id, PartNumber=1,
                                      CopySource={"Bucket": bucket, "Key": "src"})["CopyPartResult"]["ETag"]
    s3_client.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=upload_id,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert anonymous_read(anon, "mpu") is None


@pytest.mark.parametrize(("headers", "expected"), INVALID, ids=lambda v: str(v))
def test_create_multipart_upload_refuses_invalid_acls_as_put_object_does(s3_client, bucket, headers,
                                                                        expected):
    assert error_of(s3_client.put_object, Bucket=bucket, Key="put", Body=b"x", **headers) == expected
    assert error_of(s3_client.create_multipart_upload, Bucket=bucket, Key="mpu", **headers) == expected
    assert "Uploads" not in s3_client.list_multipart_uploads(Bucket=bucket)


# -- a data dir -----------------------------------------------------------------------------------------


def test_the_acls_of_copies_and_multipart_objects_survive_a_restart(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        acls_enabled(s3)
        s3.put_object(Bucket=BUCKET, Key="src", Body=b"source")
        s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "src"},
                       ACL="public-read")
        multipart(s3, "done", ACL="public-read")
        # An upload in progress keeps its ACL too: completed after the restart.
        pending = s3.create_multipart_upload(Bucket=BUCKET, Key="pending", ACL="public-read")["UploadId"]
        etag = s3.upload_part(Bucket=BUCKET, Key="pending", UploadId=pending, PartNumber=1,
                              Body=b"later")["ETag"]

    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        anon = aws.client("s3", config=UNSIGNED_CONFIG)
        s3.complete_multipart_upload(Bucket=BUCKET, Key="pending", UploadId=pending,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        for key in ("copy", "done", "pending"):
            assert group_grants(s3, key) == [(ALL_USERS, "READ")], key
        assert anonymous_read(anon, "copy") == b"source"
        assert anonymous_read(anon, "done") == b"multipart body"
        assert anonymous_read(anon, "pending") == b"later"
        assert anonymous_read(anon, "src") is None
