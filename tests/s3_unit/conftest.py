"""Fixtures for the S3 semantics tests: an S3Service called directly with boto3-shaped dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes3.context import RequestContext
from fakes3.s3 import S3Service

from .helpers import make_ctx

Call = Callable[..., dict[str, Any]]


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[S3Service]:
    # A tiny spill threshold: anything over 64 bytes goes to a file, so tests cover both paths.
    service = S3Service(spill_threshold=64, blob_dir=str(tmp_path / "blobs"))
    yield service
    service.close()


@pytest.fixture
def call(svc: S3Service) -> Call:
    """``call("PutObject", Bucket=..., ...)``; ``ctx=`` overrides the request context."""

    def _call(operation: str, ctx: RequestContext | None = None, **params: Any) -> dict[str, Any]:
        return svc.handle(operation, params, ctx or make_ctx())

    return _call


@pytest.fixture
def bucket(call: Call) -> str:
    call("CreateBucket", Bucket="bkt")
    return "bkt"
