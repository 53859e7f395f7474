"""pytest fixtures for projects that test against fakes3 (registered by ``pip install fakes3``).

- ``fakes3``: the running fake (one server per test session and xdist worker), emptied after
  each test.
- ``s3_client``: a boto3 S3 client pointed at it.
- ``aws_env``: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION
  set for the test, so any SDK or CLI started in the test finds the fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fakes3.server import FakeAWS


@pytest.fixture(scope="session")
def fakes3_server() -> Iterator[FakeAWS]:
    """The session's server; prefer ``fakes3``, which also empties it after each test."""
    from fakes3.server import FakeAWS

    with FakeAWS() as aws:
        yield aws


@pytest.fixture
def fakes3(fakes3_server: FakeAWS) -> Iterator[FakeAWS]:
    yield fakes3_server
    fakes3_server.reset()


@pytest.fixture
def s3_client(fakes3: FakeAWS) -> Any:
    return fakes3.client("s3")


@pytest.fixture
def aws_env(fakes3: FakeAWS, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # Credentials from files or a profile would shadow the fake's; point them nowhere.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/fakes3/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/fakes3/config")
    for name, value in fakes3.env.items():
        monkeypatch.setenv(name, value)
    return fakes3.env
