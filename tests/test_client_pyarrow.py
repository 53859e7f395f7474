"""pyarrow's native S3 filesystem (the AWS C++ SDK) against fakes3: Parquet files and datasets.

Buckets are made with boto3; pyarrow only reads and writes objects, as it does against real S3
where the bucket usually exists already. By default pyarrow's output streams start with
CreateMultipartUpload whatever the size, so the tests that write through pyarrow need multipart
uploads; the read-side tests store their Parquet files with boto3, so they check reading alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyarrow import fs as pafs

BUCKET = "arrow-bucket"


@pytest.fixture
def s3(fakes3):
    return pafs.S3FileSystem(
        access_key="test",
        secret_key="test",
        endpoint_override=f"{fakes3.host}:{fakes3.port}",
        scheme="http",
        region="us-east-1",
    )


@pytest.fixture
def bucket(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    return BUCKET


def sample_table(n: int = 1000, offset: int = 0) -> pa.Table:
    rng = random.Random(offset)
    return pa.table({
        "id": pa.array(range(offset, offset + n), pa.int64()),
        "value": pa.array([rng.random() for _ in range(n)], pa.float64()),
        "name": pa.array([None if i % 7 == 0 else f"name-{i}" for i in range(offset, offset + n)]),
        "ts": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i)
                        for i in range(offset, offset + n)], pa.timestamp("us", tz="UTC")),
        "tags": pa.array([[f"t{i % 3}"] * (i % 4) for i in range(offset, offset + n)]),
    })


def put_parquet(s3_client, bucket: str, key: str, table: pa.Table) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    s3_client.put_object(Bucket=bucket, Key=key, Body=sink.getvalue().to_pybytes())


def test_parquet_write_then_read_round_trips(s3, bucket, s3_client):
    table = sample_table()
    path = f"{bucket}/path/to/file.parquet"
    pq.write_table(table, path, filesystem=s3)

    stored = s3_client.get_object(Bucket=bucket, Key="path/to/file.parquet")["Body"].read()
    assert stored[:4] == b"PAR1" and stored[-4:] == b"PAR1"

    back = pq.read_table(path, filesystem=s3)
    assert back.equals(table)
    assert pq.read_metadata(path, filesystem=s3).num_rows == 1000
    # Column projection reads only part of the file (ranged GETs of the column chunks).
    assert pq.read_table(path, filesystem=s3, columns=["id", "name"]).equals(
        table.select(["id", "name"])
    )


def test_read_table_of_a_stored_parquet_file(s3, bucket, s3_client):
    table = sample_table()
    put_parquet(s3_client, bucket, "stored/file.parquet", table)
    assert pq.read_table(f"{bucket}/stored/file.parquet", filesystem=s3).equals(table)
    assert pq.read_table(f"{bucket}/stored/file.parquet", filesystem=s3, columns=["ts"]).equals(
        table.select(["ts"])
    )
    assert pq.ParquetFile(s3.open_input_file(f"{bucket}/stored/file.parquet")).metadata.num_rows == 1000


def test_get_file_info_of_file_directory_and_missing(s3, bucket, s3_client):
    put_parquet(s3_client, bucket, "path/file.parquet", sample_table(10))
    head = s3_client.head_object(Bucket=bucket, Key="path/file.parquet")

    info = s3.get_file_info(f"{bucket}/path/file.parquet")
    assert info.type == pafs.FileType.File
    assert info.size == head["ContentLength"]
    assert info.mtime is not None
    assert abs(info.mtime.timestamp() - head["LastModified"].timestamp()) < 1
    assert info.base_name == "file.parquet"

    assert s3.get_file_info(f"{bucket}/path").type == pafs.FileType.Directory
    assert s3.get_file_info(bucket).type == pafs.FileType.Directory
    assert s3.get_file_info(f"{bucket}/path/missing.parquet").type == pafs.FileType.NotFound
    assert s3.get_file_info(f"{bucket}/pa").type == pafs.FileType.NotFound


def test_file_selector_lists_nested_prefixes(s3, bucket, s3_client):
    for key in ["root.bin", "a/one.bin", "a/b/two.bin", "a/b/c/three.bin"]:
        s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())

    shallow = s3.get_file_info(pafs.FileSelector(bucket))
    assert {(i.path, i.type) for i in shallow} == {
        (f"{bucket}/root.bin", pafs.FileType.File),
        (f"{bucket}/a", pafs.FileType.Directory),
    }
    deep = s3.get_file_info(pafs.FileSelector(f"{bucket}/a", recursive=True))
    assert {(i.path, i.type) for i in deep} == {
        (f"{bucket}/a/one.bin", pafs.FileType.File),
        (f"{bucket}/a/b", pafs.FileType.Directory),
        (f"{bucket}/a/b/two.bin", pafs.FileType.File),
        (f"{bucket}/a/b/c", pafs.FileType.Directory),
        (f"{bucket}/a/b/c/three.bin", pafs.FileType.File),
    }
    sizes = {i.path: i.size for i in deep if i.type == pafs.FileType.File}
    assert sizes[f"{bucket}/a/b/c/three.bin"] == len(b"a/b/c/three.bin")
    with pytest.raises(FileNotFoundError):
        s3.get_file_info(pafs.FileSelector(f"{bucket}/nowhere"))
    assert s3.get_file_info(pafs.FileSelector(f"{bucket}/nowhere", allow_not_found=True)) == []


def test_dataset_of_two_files_under_a_prefix(s3, bucket, s3_client):
    first, second = sample_table(300, offset=0), sample_table(200, offset=300)
    put_parquet(s3_client, bucket, "ds/part-0.parquet", first)
    put_parquet(s3_client, bucket, "ds/part-1.parquet", second)
    s3_client.put_object(Bucket=bucket, Key="ds-sibling/not-in-the-dataset.parquet", Body=b"junk")

    dataset = ds.dataset(f"{bucket}/ds", filesystem=s3, format="parquet")
    assert sorted(dataset.files) == [f"{bucket}/ds/part-0.parquet", f"{bucket}/ds/part-1.parquet"]
    assert dataset.count_rows() == 500
    table = dataset.to_table().sort_by("id")
    assert table.equals(pa.concat_tables([first, second]))
    picked = dataset.to_table(columns=["id"], filter=pc.field("id") >= 450)
    assert sorted(picked.column("id").to_pylist()) == list(range(450, 500))


def test_small_write_with_delayed_open_round_trips(fakes3, bucket, s3_client):
    # allow_delayed_open: a stream closed before its first part is sent is one PutObject.
    s3 = pafs.S3FileSystem(access_key="test", secret_key="test", scheme="http", region="us-east-1",
                           endpoint_override=f"{fakes3.host}:{fakes3.port}", allow_delayed_open=True)
    table = sample_table(50)
    pq.write_table(table, f"{bucket}/delayed/file.parquet", filesystem=s3)
    assert pq.read_table(f"{bucket}/delayed/file.parquet", filesystem=s3).equals(table)
    with s3.open_output_stream(f"{bucket}/delayed/raw.txt", metadata={"Content-Type": "text/csv"}) as out:
        out.write(b"a,b\n1,2\n")
    got = s3_client.get_object(Bucket=bucket, Key="delayed/raw.txt")
    assert got["Body"].read() == b"a,b\n1,2\n"
    assert got["ContentType"] == "text/csv"


def test_hive_partitioned_dataset_write_and_filtered_read(s3, bucket, s3_client):
    table = pa.table({"year": [2023, 2023, 2024, 2024, 2024], "v": [1, 2, 3, 4, 5]})
    ds.write_dataset(table, f"{bucket}/hive", filesystem=s3, format="parquet",
                     partitioning=["year"], partitioning_flavor="hive",
                     basename_template="chunk-{i}.parquet")
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]
                  if not o["Key"].endswith("/"))  # pyarrow may leave directory markers
    assert keys == ["hive/year=2023/chunk-0.parquet", "hive/year=2024/chunk-0.parquet"]

    dataset = ds.dataset(f"{bucket}/hive", filesystem=s3, format="parquet", partitioning="hive")
    only_2024 = dataset.to_table(filter=pc.field("year") == 2024)
    assert sorted(only_2024.column("v").to_pylist()) == [3, 4, 5]
    assert dataset.count_rows() == 5


def test_streams_random_access_and_large_multipart_write(s3, bucket, s3_client):
    # 12 MiB: past pyarrow's upload part size, so the output stream goes multipart.
    data = random.Random(7).randbytes(12 * 1024 * 1024 + 5)
    with s3.open_output_stream(f"{bucket}/raw/big.bin") as out:
        for pos in range(0, len(data), 1 << 20):
            out.write(data[pos : pos + (1 << 20)])
    head = s3_client.head_object(Bucket=bucket, Key="raw/big.bin")
    assert head["ContentLength"] == len(data)

    with s3.open_input_file(f"{bucket}/raw/big.bin") as f:
        assert f.size() == len(data)
        assert f.read_at(16, 5_000_000) == data[5_000_000:5_000_016]
        f.seek(len(data) - 3)
        assert f.read() == data[-3:]
    with s3.open_input_stream(f"{bucket}/raw/big.bin") as stream:
        assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(data).digest()


def test_copy_move_and_delete(s3, bucket, s3_client):
    s3_client.put_object(Bucket=bucket, Key="src.txt", Body=b"arrow")
    s3.copy_file(f"{bucket}/src.txt", f"{bucket}/copy/dst.txt")
    assert s3_client.get_object(Bucket=bucket, Key="copy/dst.txt")["Body"].read() == b"arrow"
    s3.move(f"{bucket}/copy/dst.txt", f"{bucket}/moved.txt")
    assert s3.get_file_info(f"{bucket}/copy/dst.txt").type == pafs.FileType.NotFound
    s3.delete_file(f"{bucket}/moved.txt")
    s3.delete_dir_contents(bucket)
    assert s3_client.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    with pytest.raises(FileNotFoundError):
        s3.open_input_file(f"{bucket}/src.txt")


def test_a_large_parquet_file_is_written_in_parts_and_read_back(s3, bucket, s3_client):
    rng = random.Random(11)
    n = 1_500_000  # random 64-bit values barely compress: a ~24 MiB file, several parts
    table = pa.table({"id": pa.array(range(n), pa.int64()),
                      "value": pa.array([rng.getrandbits(63) for _ in range(n)], pa.int64())})
    pq.write_table(table, f"{bucket}/large/data.parquet", filesystem=s3, row_group_size=250_000)
    head = s3_client.head_object(Bucket=bucket, Key="large/data.parquet")
    assert head["ContentLength"] > 16 * 1024 * 1024
    assert head["ETag"].rstrip('"').split("-")[-1].isdigit()  # a multipart object
    assert pq.read_table(f"{bucket}/large/data.parquet", filesystem=s3).equals(table)
