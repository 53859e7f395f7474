from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from s3_callers import OTHER, anonymous_client, other_account_client

from fakes3 import FakeAWS

pytest_plugins = ["pytester"]


@pytest.fixture
def anon(fakes3: FakeAWS) -> Any:
    """An S3 client that signs nothing."""
    return anonymous_client(fakes3)


@pytest.fixture
def other(fakes3: FakeAWS) -> Iterator[Any]:
    """An S3 client of another account (``s3_callers.OTHER``)."""
    with other_account_client(fakes3, OTHER) as client:
        yield client
