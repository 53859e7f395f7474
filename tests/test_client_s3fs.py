"""s3fs / fsspec against fakes3: the filesystem view of S3 that pandas, dask and xarray users get.

s3fs is async inside (aiobotocore); every call below goes through its synchronous wrappers.
The instance and listings caches are off, so each assertion sees what the server says now.
"""

from __future__ import annotations

import hashlib
import random

import pytest
import s3fs

BUCKET = "fsspec-bucket"


@pytest.fixture
def fs(fakes3):
    return s3fs.S3FileSystem(
        key="test",
        secret="test",
        client_kwargs={"endpoint_url": fakes3.endpoint_url, "region_name": "us-east-1"},
        skip_instance_cache=True,
        use_listings_cache=False,
    )


@pytest.fixture
def bucket(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def tree(s3_client, bucket):
    """a.txt, d1/b.txt, d1/d2/c.txt, d1/d2/d3/e.txt and z/f.txt under the bucket."""
    contents = {
        "a.txt": b"A",
        "d1/b.txt": b"BB",
        "d1/d2/c.txt": b"CCC",
        "d1/d2/d3/e.txt": b"EEEE",
        "z/f.txt": b"FFFFF",
    }
    for key, data in contents.items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)
    return contents


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def test_mkdir_creates_a_bucket(aws_env, fakes3, s3_client):
    # No region_name in client_kwargs: the region comes from AWS_DEFAULT_REGION (us-east-1), and
    # s3fs sends no LocationConstraint, which is how a us-east-1 bucket is created.
    fs = s3fs.S3FileSystem(key="test", secret="test", client_kwargs={"endpoint_url": fakes3.endpoint_url},
                           skip_instance_cache=True, use_listings_cache=False)
    fs.mkdir("made-by-fsspec")
    assert "made-by-fsspec" in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    assert fs.exists("made-by-fsspec")
    assert fs.info("made-by-fsspec")["type"] == "directory"
    assert "made-by-fsspec" in fs.ls("")
    with pytest.raises(FileExistsError):
        fs.mkdir("made-by-fsspec")
    # A us-east-1 bucket: GetBucketLocation answers an empty <LocationConstraint/>, boto3 gives None.
    assert s3_client.get_bucket_location(Bucket="made-by-fsspec")["LocationConstraint"] is None
    fs.rmdir("made-by-fsspec")
    assert "made-by-fsspec" not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    assert not fs.exists("made-by-fsspec")


def test_mkdir_with_region_name_us_east_1_is_refused_as_s3_does(fs, s3_client):
    # s3fs sends CreateBucketConfiguration/LocationConstraint=us-east-1 when client_kwargs has
    # region_name="us-east-1"; real S3 answers 400 InvalidLocationConstraint to that.
    with pytest.raises(OSError, match="InvalidLocationConstraint|location-constraint"):
        fs.mkdir("refused-bucket")
    assert "refused-bucket" not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]


def test_open_write_then_read(fs, s3_client, bucket):
    path = f"{bucket}/dir/sub/file.bin"
    data = payload(300_000, seed=1)
    with fs.open(path, "wb") as f:
        f.write(data[:1000])
        f.write(data[1000:])
    assert s3_client.get_object(Bucket=bucket, Key="dir/sub/file.bin")["Body"].read() == data
    with fs.open(path, "rb") as f:
        assert f.read() == data
    with fs.open(path, "rb", block_size=4096) as f:  # block-cached ranged reads
        f.seek(150_000)
        assert f.read(10) == data[150_000:150_010]
        f.seek(-5, 2)
        assert f.read() == data[-5:]
        assert f.tell() == len(data)


def test_open_text_mode_round_trip(fs, bucket):
    with fs.open(f"{bucket}/notes.txt", "w", encoding="utf-8") as f:
        f.write("zwölf Boxkämpfer\nline two\n")
    with fs.open(f"{bucket}/notes.txt", "r", encoding="utf-8") as f:
        assert f.readlines() == ["zwölf Boxkämpfer\n", "line two\n"]


def test_write_larger_than_the_block_size_is_a_multipart_upload(fs, s3_client, bucket):
    data = payload(12 * 1024 * 1024 + 7, seed=2)
    with fs.open(f"{bucket}/big.bin", "wb", block_size=5 * 1024 * 1024) as f:
        for offset in range(0, len(data), 1 << 20):
            f.write(data[offset : offset + (1 << 20)])
    head = s3_client.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"'), head["ETag"]  # 5 MiB + 5 MiB + the rest
    assert hashlib.sha256(fs.cat_file(f"{bucket}/big.bin")).digest() == hashlib.sha256(data).digest()


def test_put_and_get_local_files(fs, bucket, tmp_path):
    src = tmp_path / "local.csv"
    src.write_bytes(b"a,b\n1,2\n")
    fs.put(str(src), f"{bucket}/uploads/local.csv")
    assert fs.cat_file(f"{bucket}/uploads/local.csv") == b"a,b\n1,2\n"
    dst = tmp_path / "back.csv"
    fs.get(f"{bucket}/uploads/local.csv", str(dst))
    assert dst.read_bytes() == b"a,b\n1,2\n"


def test_put_and_get_a_directory_recursively(fs, bucket, tmp_path):
    src = tmp_path / "src"
    files = {"one.txt": b"1", "nested/two.txt": b"22", "nested/deeper/three.txt": b"333"}
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    fs.put(str(src) + "/", f"{bucket}/copy/", recursive=True)
    assert sorted(fs.find(f"{bucket}/copy")) == sorted(f"{bucket}/copy/{rel}" for rel in files)

    dst = tmp_path / "dst"
    fs.get(f"{bucket}/copy/", str(dst) + "/", recursive=True)
    got = {p.relative_to(dst).as_posix(): p.read_bytes() for p in dst.rglob("*") if p.is_file()}
    assert got == files


def test_ls_shows_files_and_directories(fs, bucket, tree):
    top = {e["name"]: e for e in fs.ls(bucket, detail=True)}
    assert set(top) == {f"{bucket}/a.txt", f"{bucket}/d1", f"{bucket}/z"}
    assert top[f"{bucket}/a.txt"]["type"] == "file"
    assert top[f"{bucket}/a.txt"]["size"] == 1
    assert top[f"{bucket}/d1"]["type"] == "directory"
    assert top[f"{bucket}/z"]["type"] == "directory"

    d1 = {e["name"]: e["type"] for e in fs.ls(f"{bucket}/d1", detail=True)}
    assert d1 == {f"{bucket}/d1/b.txt": "file", f"{bucket}/d1/d2": "directory"}
    assert sorted(fs.ls(f"{bucket}/d1/d2/")) == [f"{bucket}/d1/d2/c.txt", f"{bucket}/d1/d2/d3"]
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{bucket}/no-such-dir")


def test_find_walk_and_glob_across_nested_prefixes(fs, bucket, tree):
    assert fs.find(bucket) == sorted(f"{bucket}/{key}" for key in tree)
    assert fs.find(f"{bucket}/d1") == [
        f"{bucket}/d1/b.txt", f"{bucket}/d1/d2/c.txt", f"{bucket}/d1/d2/d3/e.txt"
    ]
    with_dirs = fs.find(bucket, withdirs=True, detail=True)
    dirs = sorted(name for name, e in with_dirs.items() if e["type"] == "directory")
    assert dirs == [f"{bucket}/d1", f"{bucket}/d1/d2", f"{bucket}/d1/d2/d3", f"{bucket}/z"]
    assert fs.find(bucket, maxdepth=1) == [f"{bucket}/a.txt"]
    assert sorted(fs.glob(f"{bucket}/d1/**/*.txt")) == [
        f"{bucket}/d1/b.txt", f"{bucket}/d1/d2/c.txt", f"{bucket}/d1/d2/d3/e.txt"
    ]
    walked = {root: (sorted(dirs), sorted(files)) for root, dirs, files in fs.walk(f"{bucket}/d1")}
    assert walked == {
        f"{bucket}/d1": (["d2"], ["b.txt"]),
        f"{bucket}/d1/d2": (["d3"], ["c.txt"]),
        f"{bucket}/d1/d2/d3": ([], ["e.txt"]),
    }
    assert fs.du(f"{bucket}/d1") == 2 + 3 + 4


def test_info_and_exists(fs, s3_client, bucket, tree):
    info = fs.info(f"{bucket}/d1/d2/c.txt")
    head = s3_client.head_object(Bucket=bucket, Key="d1/d2/c.txt")
    assert info["type"] == "file"
    assert info["size"] == 3
    assert info["ETag"] == head["ETag"] == f'"{hashlib.md5(b"CCC").hexdigest()}"'
    assert info["LastModified"] == head["LastModified"]
    assert fs.size(f"{bucket}/d1/d2/c.txt") == 3
    assert fs.isfile(f"{bucket}/d1/d2/c.txt")

    assert fs.info(f"{bucket}/d1/d2")["type"] == "directory"
    assert fs.isdir(f"{bucket}/d1/d2")
    assert not fs.isdir(f"{bucket}/d1/d2/c.txt")

    assert fs.exists(f"{bucket}/a.txt")
    assert fs.exists(f"{bucket}/d1")  # a prefix is a directory
    assert not fs.exists(f"{bucket}/d1/nothing")
    assert not fs.exists(f"{bucket}/d")  # a partial prefix name is not a directory
    assert not fs.exists("no-such-bucket-here/key")
    with pytest.raises(FileNotFoundError):
        fs.info(f"{bucket}/missing.txt")


def test_rm_single_and_recursive(fs, bucket, tree, s3_client):
    fs.rm(f"{bucket}/a.txt")
    assert not fs.exists(f"{bucket}/a.txt")
    fs.rm(f"{bucket}/d1", recursive=True)  # one DeleteObjects request for three keys
    remaining = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert remaining == ["z/f.txt"]
    assert not fs.exists(f"{bucket}/d1")


def test_rm_of_many_keys_in_one_bulk_delete(fs, bucket, s3_client):
    for i in range(30):
        s3_client.put_object(Bucket=bucket, Key=f"many/{i:03d}", Body=b"x")
    fs.rm([f"{bucket}/many/{i:03d}" for i in range(0, 30, 2)])
    left = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == [f"many/{i:03d}" for i in range(1, 30, 2)]


def test_cat_file_ranges(fs, bucket, s3_client):
    data = bytes(range(256)) * 4
    s3_client.put_object(Bucket=bucket, Key="ranged.bin", Body=data)
    path = f"{bucket}/ranged.bin"
    assert fs.cat_file(path) == data
    assert fs.cat_file(path, start=10, end=20) == data[10:20]  # Range: bytes=10-19
    assert fs.cat_file(path, start=1000) == data[1000:]  # bytes=1000-
    assert fs.cat_file(path, start=-7) == data[-7:]  # suffix range bytes=-7
    assert fs.cat_file(path, start=1020, end=5000) == data[1020:]  # end past the size: clamped
    assert fs.read_block(path, 100, 50) == data[100:150]
    assert fs.cat_ranges([path, path], [0, 512], [4, 516]) == [data[0:4], data[512:516]]


def test_copy_and_move(fs, bucket, s3_client):
    s3_client.put_object(Bucket=bucket, Key="orig.txt", Body=b"copy me", ContentType="text/plain")
    fs.copy(f"{bucket}/orig.txt", f"{bucket}/copies/dup.txt")
    assert fs.cat_file(f"{bucket}/copies/dup.txt") == b"copy me"
    fs.mv(f"{bucket}/copies/dup.txt", f"{bucket}/moved.txt")
    assert not fs.exists(f"{bucket}/copies/dup.txt")
    assert fs.cat_file(f"{bucket}/moved.txt") == b"copy me"
    assert s3_client.head_object(Bucket=bucket, Key="moved.txt")["ContentType"] == "text/plain"


def test_missing_key_raises_file_not_found(fs, bucket):
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{bucket}/nope")
    with pytest.raises(FileNotFoundError):
        fs.open(f"{bucket}/nope", "rb")


def test_requester_pays_reads_by_another_account(fakes3, s3_client, bucket):
    """s3fs's requester_pays=True sends x-amz-request-payer on every call: the way another account
    reads a Requester Pays bucket (without it, S3 answers 403)."""
    import json

    from s3_callers import OTHER, other_account_client

    s3_client.delete_public_access_block(Bucket=bucket)
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    s3_client.put_object(Bucket=bucket, Key="data/part-0.csv", Body=b"a,b\n1,2\n")
    s3_client.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})

    def reader(requester_pays):
        return s3fs.S3FileSystem(
            key=OTHER.access_key, secret=OTHER.secret_key, requester_pays=requester_pays,
            client_kwargs={"endpoint_url": fakes3.endpoint_url, "region_name": "us-east-1"},
            skip_instance_cache=True, use_listings_cache=False)

    with other_account_client(fakes3, OTHER):  # registers the other account's key meanwhile
        with pytest.raises(PermissionError):
            reader(False).cat(f"{bucket}/data/part-0.csv")
        fs = reader(True)
        assert fs.ls(f"{bucket}/data") == [f"{bucket}/data/part-0.csv"]
        assert fs.cat(f"{bucket}/data/part-0.csv") == b"a,b\n1,2\n"
