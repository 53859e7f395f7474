"""The AWS CLI v1 (``aws s3`` and ``aws s3api``) run as a subprocess against fakes3.

Each command gets an environment built from ``os.environ`` after the ``aws_env`` fixture has
pointed it at the fake, with the config and credentials files pointed nowhere, so nothing on the
machine can change what the CLI does.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_VENV_AWS = Path(sys.executable).with_name("aws")
AWS = str(_VENV_AWS) if _VENV_AWS.exists() else (shutil.which("aws") or "aws")
OLD_MTIME = 1_577_836_800  # 2020-01-01T00:00:00Z: files older than anything they are synced to


@pytest.fixture
def cli_env(aws_env, tmp_path):
    env = dict(os.environ)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "nonexistent" / "config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "nonexistent" / "credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_DEFAULT_PROFILE", None)
    assert env["AWS_ENDPOINT_URL"] == aws_env["AWS_ENDPOINT_URL"]
    return env


@pytest.fixture
def aws(cli_env):
    """Run ``aws ARGS...``; fail the test with the CLI's stderr unless it exits 0."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [AWS, *args], env=cli_env, capture_output=True, encoding="utf-8", timeout=60,
            check=False,
        )
        proc.stdout = proc.stdout.replace("\r", "\n")  # progress lines end in a bare CR
        if check:
            assert proc.returncode == 0, (
                f"aws {' '.join(args)} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    return run


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def keys_in(s3_client, bucket: str, prefix: str = "") -> dict[str, int]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def body_of(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


LS_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s+(\d+) (.+)$")


def parse_ls(stdout: str) -> tuple[dict[str, int], list[str]]:
    """``aws s3 ls`` output: ({key: size} for object lines, [prefix] for ``PRE`` lines)."""
    objects: dict[str, int] = {}
    prefixes: list[str] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        pre = re.match(r"^\s+PRE (.+)$", line)
        if pre:
            prefixes.append(pre.group(1))
            continue
        m = LS_LINE.match(line)
        assert m, f"unexpected `aws s3 ls` line: {line!r}"
        objects[m.group(3)] = int(m.group(2))
    return objects, prefixes


def test_mb_then_ls_lists_the_bucket(aws, s3_client):
    proc = aws("s3", "mb", "s3://cli-made")
    assert proc.stdout.strip() == "make_bucket: cli-made"
    s3_client.head_bucket(Bucket="cli-made")
    listing = aws("s3", "ls").stdout
    assert re.search(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} cli-made$", listing, re.M), listing
    # Making it again: us-east-1 answers 200 to the owner (legacy behaviour), so the CLI succeeds.
    aws("s3", "mb", "s3://cli-made")
    proc = aws("s3", "rb", "s3://cli-made")
    assert proc.stdout.strip() == "remove_bucket: cli-made"
    assert "cli-made" not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]


def test_mb_of_an_invalid_name_fails(aws):
    proc = aws("s3", "mb", "s3://Not_A_Valid_Bucket", check=False)
    assert proc.returncode != 0
    assert "InvalidBucketName" in proc.stderr


def test_cp_up_and_down_round_trips_content(aws, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-cp")
    data = payload(200_000, seed=1)
    src = tmp_path / "upload.bin"
    src.write_bytes(data)
    proc = aws("s3", "cp", str(src), "s3://cli-cp/some/dir/upload.bin")
    assert "upload:" in proc.stdout and "s3://cli-cp/some/dir/upload.bin" in proc.stdout
    assert body_of(s3_client, "cli-cp", "some/dir/upload.bin") == data
    head = s3_client.head_object(Bucket="cli-cp", Key="some/dir/upload.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'

    dst = tmp_path / "download.bin"
    proc = aws("s3", "cp", "s3://cli-cp/some/dir/upload.bin", str(dst))
    assert "download:" in proc.stdout
    assert dst.read_bytes() == data


def test_cp_with_sse_c_needs_the_key_both_ways(aws, s3_client, tmp_path):
    # multipart (above 8 MiB) so every UploadPart must carry the key too
    s3_client.create_bucket(Bucket="cli-ssec")
    s3_client.put_bucket_encryption(Bucket="cli-ssec", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
    key = tmp_path / "sse.key"
    key.write_bytes(bytes(range(32)))
    data = payload(9 * 1024 * 1024, seed=5)
    src = tmp_path / "secret.bin"
    src.write_bytes(data)
    sse_c = ("--sse-c", "AES256", "--sse-c-key", f"fileb://{key}")
    aws("s3", "cp", str(src), "s3://cli-ssec/secret.bin", *sse_c)
    dst = tmp_path / "secret.out"
    refused = aws("s3", "cp", "s3://cli-ssec/secret.bin", str(dst), check=False)
    assert refused.returncode != 0 and "400" in refused.stderr
    aws("s3", "cp", "s3://cli-ssec/secret.bin", str(dst), *sse_c)
    assert dst.read_bytes() == data
    kms = aws("s3api", "put-object", "--bucket", "cli-ssec", "--key", "kms", "--body", str(key),
              "--server-side-encryption", "aws:kms")
    assert json.loads(kms.stdout)["ServerSideEncryption"] == "aws:kms"


def test_cp_of_a_text_file_guesses_its_content_type(aws, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-types")
    src = tmp_path / "page.html"
    src.write_text("<p>hi</p>")
    aws("s3", "cp", str(src), "s3://cli-types/page.html")
    assert s3_client.head_object(Bucket="cli-types", Key="page.html")["ContentType"] == "text/html"


def test_cp_of_a_large_file_uses_multipart_and_round_trips(aws, s3_client, tmp_path):
    # 40 MiB, above the CLI's 8 MiB multipart threshold: CreateMultipartUpload, UploadPart x6,
    # CompleteMultipartUpload up; ranged GETs down.
    s3_client.create_bucket(Bucket="cli-big")
    data = payload(40 * 1024 * 1024 + 123, seed=2)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    aws("s3", "cp", str(src), "s3://cli-big/big.bin")
    head = s3_client.head_object(Bucket="cli-big", Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert re.fullmatch(r'"[0-9a-f]{32}-6"', head["ETag"]), head["ETag"]  # 40 MiB in 8 MiB parts
    dst = tmp_path / "big.out"
    aws("s3", "cp", "s3://cli-big/big.bin", str(dst))
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_cp_stdin_and_stdout(aws, s3_client, cli_env):
    s3_client.create_bucket(Bucket="cli-stream")
    up = subprocess.run([AWS, "s3", "cp", "-", "s3://cli-stream/from-stdin.txt"], input=b"piped\n",
                        env=cli_env, capture_output=True, timeout=60, check=False)
    assert up.returncode == 0, up.stderr.decode()
    assert body_of(s3_client, "cli-stream", "from-stdin.txt") == b"piped\n"
    down = subprocess.run([AWS, "s3", "cp", "s3://cli-stream/from-stdin.txt", "-"],
                          env=cli_env, capture_output=True, timeout=60, check=False)
    assert down.returncode == 0, down.stderr.decode()
    assert down.stdout == b"piped\n"


def test_ls_shows_keys_sizes_and_common_prefixes(aws, s3_client):
    s3_client.create_bucket(Bucket="cli-ls")
    s3_client.put_object(Bucket="cli-ls", Key="top.txt", Body=b"12345")
    s3_client.put_object(Bucket="cli-ls", Key="dir/a.txt", Body=b"a" * 10)
    s3_client.put_object(Bucket="cli-ls", Key="dir/sub/b.txt", Body=b"b" * 2048)
    s3_client.put_object(Bucket="cli-ls", Key="other/c.txt", Body=b"")

    objects, prefixes = parse_ls(aws("s3", "ls", "s3://cli-ls/").stdout)
    assert objects == {"top.txt": 5}
    assert prefixes == ["dir/", "other/"]

    objects, prefixes = parse_ls(aws("s3", "ls", "s3://cli-ls/dir/").stdout)
    assert objects == {"a.txt": 10}
    assert prefixes == ["sub/"]

    objects, prefixes = parse_ls(aws("s3", "ls", "--recursive", "s3://cli-ls").stdout)
    assert objects == {"top.txt": 5, "dir/a.txt": 10, "dir/sub/b.txt": 2048, "other/c.txt": 0}
    assert prefixes == []

    summary = aws("s3", "ls", "--recursive", "--summarize", "s3://cli-ls").stdout
    assert re.search(r"Total Objects: 4\b", summary), summary
    assert re.search(r"Total Size: 2063\b", summary), summary


def test_ls_of_a_missing_bucket_fails(aws):
    proc = aws("s3", "ls", "s3://cli-no-such-bucket", check=False)
    assert proc.returncode != 0
    assert "NoSuchBucket" in proc.stderr


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"alpha\n",
        "sub/b.txt": b"bravo\n" * 100,
        "sub/deeper/c.bin": payload(5000, seed=3),
        "sub/deeper/empty": b"",
        "other dir/ü & d.txt": b"delta",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        # Older than the upload: the CLI's "newer at the source" test is then deterministic,
        # whatever the sub-second part of the clock at upload time.
        os.utime(path, (OLD_MTIME, OLD_MTIME))
    return files


def uploaded(stdout: str) -> list[str]:
    return sorted(re.findall(r"^upload: .+ to (s3://\S.*)$", stdout, re.M))


def test_sync_uploads_a_tree_once(aws, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-sync")
    src = tmp_path / "tree"
    files = make_tree(src)

    first = aws("s3", "sync", str(src), "s3://cli-sync/backup")
    assert uploaded(first.stdout) == sorted(f"s3://cli-sync/backup/{rel}" for rel in files)
    stored = keys_in(s3_client, "cli-sync")
    assert stored == {f"backup/{rel}": len(data) for rel, data in files.items()}
    for rel, data in files.items():
        assert body_of(s3_client, "cli-sync", f"backup/{rel}") == data

    second = aws("s3", "sync", str(src), "s3://cli-sync/backup")
    assert second.stdout.strip() == "", f"second sync should upload nothing:\n{second.stdout}"

    # A changed file (new size) is the only one uploaded next time.
    (src / "sub" / "b.txt").write_bytes(b"changed")
    os.utime(src / "sub" / "b.txt", (OLD_MTIME, OLD_MTIME))
    third = aws("s3", "sync", str(src), "s3://cli-sync/backup")
    assert uploaded(third.stdout) == ["s3://cli-sync/backup/sub/b.txt"]
    assert body_of(s3_client, "cli-sync", "backup/sub/b.txt") == b"changed"


def test_sync_down_and_delete(aws, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-syncdown")
    files = {"x/1.txt": b"one", "x/y/2.txt": b"two", "3.txt": b"three"}
    for key, data in files.items():
        s3_client.put_object(Bucket="cli-syncdown", Key=key, Body=data)
    dst = tmp_path / "down"
    aws("s3", "sync", "s3://cli-syncdown", str(dst))
    got = {p.relative_to(dst).as_posix(): p.read_bytes() for p in dst.rglob("*") if p.is_file()}
    assert got == files

    # --delete removes remote keys that no longer exist locally.
    (dst / "x" / "y" / "2.txt").unlink()
    for p in dst.rglob("*"):
        os.utime(p, (OLD_MTIME, OLD_MTIME))
    proc = aws("s3", "sync", "--delete", str(dst), "s3://cli-syncdown")
    assert re.findall(r"^delete: (\S+)$", proc.stdout, re.M) == ["s3://cli-syncdown/x/y/2.txt"]
    assert set(keys_in(s3_client, "cli-syncdown")) == {"x/1.txt", "3.txt"}


def test_rm_recursive_deletes_only_under_the_prefix(aws, s3_client):
    s3_client.create_bucket(Bucket="cli-rm")
    doomed = ["logs/2024/a.log", "logs/2024/b.log", "logs/2025/c.log", "logs/d.log"]
    for key in [*doomed, "logsmore/keep.txt", "keep.txt"]:
        s3_client.put_object(Bucket="cli-rm", Key=key, Body=key.encode())
    proc = aws("s3", "rm", "--recursive", "s3://cli-rm/logs/")
    deleted = sorted(re.findall(r"^delete: s3://cli-rm/(\S+)$", proc.stdout, re.M))
    assert deleted == sorted(doomed)
    assert set(keys_in(s3_client, "cli-rm")) == {"logsmore/keep.txt", "keep.txt"}

    proc = aws("s3", "rm", "s3://cli-rm/keep.txt")
    assert proc.stdout.strip() == "delete: s3://cli-rm/keep.txt"
    assert set(keys_in(s3_client, "cli-rm")) == {"logsmore/keep.txt"}


def s3api_json(aws, *args: str) -> dict:
    proc = aws("s3api", *args, "--output", "json")
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def test_s3api_put_head_and_list_objects_json(aws, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-api")
    body = tmp_path / "body.json"
    body.write_bytes(b'{"hello": "world"}')
    put = s3api_json(aws, "put-object", "--bucket", "cli-api", "--key", "docs/hello.json",
                     "--body", str(body), "--content-type", "application/json",
                     "--metadata", "Team=storage,build=42")
    assert put["ETag"] == f'"{hashlib.md5(body.read_bytes()).hexdigest()}"'

    head = s3api_json(aws, "head-object", "--bucket", "cli-api", "--key", "docs/hello.json")
    assert head["ContentLength"] == 18
    assert head["ContentType"] == "application/json"
    assert head["ETag"] == put["ETag"]
    assert head["Metadata"] == {"team": "storage", "build": "42"}
    assert "LastModified" in head

    for i in range(5):
        s3_client.put_object(Bucket="cli-api", Key=f"docs/n{i}.txt", Body=b"x" * i)
    s3_client.put_object(Bucket="cli-api", Key="elsewhere.txt", Body=b"e")

    # --page-size 2: the CLI follows NextContinuationToken over three requests and merges them.
    listed = s3api_json(aws, "list-objects-v2", "--bucket", "cli-api", "--prefix", "docs/",
                        "--page-size", "2")
    assert [o["Key"] for o in listed["Contents"]] == [
        "docs/hello.json", *(f"docs/n{i}.txt" for i in range(5))
    ]
    assert [o["Size"] for o in listed["Contents"]] == [18, 0, 1, 2, 3, 4]
    assert listed["Contents"][0]["ETag"] == put["ETag"]
    assert all(o["StorageClass"] == "STANDARD" for o in listed["Contents"])

    delimited = s3api_json(aws, "list-objects-v2", "--bucket", "cli-api", "--delimiter", "/")
    assert [o["Key"] for o in delimited["Contents"]] == ["elsewhere.txt"]
    assert delimited["CommonPrefixes"] == [{"Prefix": "docs/"}]


def test_s3api_head_object_of_a_missing_key_is_a_404(aws, s3_client):
    s3_client.create_bucket(Bucket="cli-api404")
    proc = aws("s3api", "head-object", "--bucket", "cli-api404", "--key", "nope", check=False)
    assert proc.returncode != 0
    assert "404" in proc.stderr and "Not Found" in proc.stderr


def test_s3api_get_object_writes_the_body_to_a_file(aws, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-apiget")
    s3_client.put_object(Bucket="cli-apiget", Key="k", Body=b"0123456789")
    out = tmp_path / "out"
    meta = s3api_json(aws, "get-object", "--bucket", "cli-apiget", "--key", "k",
                      "--range", "bytes=2-5", str(out))
    assert out.read_bytes() == b"2345"
    assert meta["ContentLength"] == 4
    assert meta["ContentRange"] == "bytes 2-5/10"
