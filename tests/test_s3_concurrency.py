"""With no fault configured, the fake is linearizable per key: readers never see a torn value."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import botocore.config


def test_racing_puts_gets_and_deletes_never_tear_a_value(fakes3):
    client = fakes3.client("s3", config=botocore.config.Config(max_pool_connections=16,
                                                               retries={"max_attempts": 1}))
    client.create_bucket(Bucket="race")
    keys = [f"key-{i}" for i in range(3)]
    # Distinct bodies of different sizes (some spilled to disk) so a mix would show.
    bodies = {(w, n): bytes([w * 16 + n]) * (1000 + 700_000 * (n % 3)) for w in range(8) for n in range(6)}
    written = set(bodies.values())
    barrier = threading.Barrier(8, timeout=30)
    problems: list[str] = []

    def worker(w: int) -> int:
        barrier.wait()
        reads = 0
        for n in range(6):
            key = keys[(w + n) % len(keys)]
            client.put_object(Bucket="race", Key=key, Body=bodies[(w, n)])
            for other in keys:
                try:
                    data = client.get_object(Bucket="race", Key=other)["Body"].read()
                except client.exceptions.NoSuchKey:
                    continue
                reads += 1
                if data not in written:
                    problems.append(f"{other}: a value no PUT wrote ({len(data)} bytes)")
            if n % 3 == 2:
                client.delete_object(Bucket="race", Key=key)
        return reads

    with ThreadPoolExecutor(8) as pool:
        reads = sum(pool.map(worker, range(8), timeout=120))
    assert not problems, problems[:3]
    assert reads > 0
