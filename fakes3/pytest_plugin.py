"""pytest fixtures for projects that test against fakes3 (registered by ``pip install fakes3``).

- ``fakes3``: the running fake (one server per test session and xdist worker), emptied after
  each test.
- ``s3_client``, ``dynamodb_client``: boto3 clients pointed at it.
- ``faults``: its fault controller (rules, holds, journal), cleared after each test; the
  ``@pytest.mark.fakes3_faults(rule, ..., profile=...)`` marker installs rules for one test.
- Credential sources, each putting the standard environment variables in place for one test so
  that any SDK or CLI started in the test finds the fake and authenticates the way it would in
  production: ``aws_env`` (access keys in the environment), ``aws_profile_env`` (a profile in
  shared credentials and config files), ``imds_env`` (EC2 instance metadata, IMDSv1 and v2),
  ``imds_v2_only_env`` (IMDSv2 only: token-less requests get 401) and ``ecs_env`` (ECS
  container credentials). Every other credential source is cleared first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fakes3.server import FakeAWS

PROFILE = "fakes3"


@pytest.fixture(scope="session")
def fakes3_server() -> Iterator[FakeAWS]:
    """The session's server; prefer ``fakes3``, which also empties it after each test."""
    from fakes3.server import FakeAWS

    with FakeAWS() as aws:
        yield aws


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fakes3_faults(*rules, profile=None): fault rules (JSON-shaped dicts, as POST /_fakes3/faults "
        "takes) and/or a fault profile installed on the fakes3 fixture for this test only",
    )


@pytest.fixture
def fakes3(fakes3_server: FakeAWS, request: pytest.FixtureRequest) -> Iterator[FakeAWS]:
    """The running fake, with this test's ``fakes3_faults`` marker applied; emptied afterwards
    (buckets, objects, fault rules, holds, journal)."""
    marker = request.node.get_closest_marker("fakes3_faults")
    try:
        if marker is not None:
            if marker.kwargs.get("profile"):
                fakes3_server.faults.use_profile(marker.kwargs["profile"])
            for rule in marker.args:
                fakes3_server.faults.add_json(rule)
        yield fakes3_server
    finally:
        fakes3_server.faults.use_profile("aws")
        fakes3_server.reset()


@pytest.fixture
def faults(fakes3: FakeAWS) -> Any:
    """The fake's FaultController: ``faults.add(error(503, "SlowDown"), operation="PutObject")``,
    ``faults.holds["name"]``, ``faults.journal``; every rule is removed after the test."""
    return fakes3.faults


@pytest.fixture
def s3_client(fakes3: FakeAWS) -> Any:
    return fakes3.client("s3")


@pytest.fixture
def dynamodb_client(fakes3: FakeAWS) -> Any:
    """A boto3 DynamoDB client pointed at the fake (its tables are dropped after each test)."""
    return fakes3.client("dynamodb")


def _only_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fakes3: FakeAWS,
                 source: Mapping[str, str]) -> dict[str, str]:
    """Clear every credential source, then point SDKs at the fake with ``source`` as the only one."""
    from fakes3.imds.testing import CREDENTIAL_ENV_VARIABLES

    for name in CREDENTIAL_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ENDPOINT_URL": fakes3.endpoint_url,
        "AWS_DEFAULT_REGION": fakes3.region,
        "AWS_REGION": fakes3.region,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "fakes3-no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "fakes3-no-config"),
        **source,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def aws_env(fakes3: FakeAWS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The default key pair in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""
    keys = fakes3.credentials
    return _only_source(monkeypatch, tmp_path, fakes3, {
        "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"]})


@pytest.fixture
def aws_profile_env(fakes3: FakeAWS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A ``fakes3`` profile in a credentials file and a config file (AWS_PROFILE selects it)."""
    credentials, config = tmp_path / "aws-credentials", tmp_path / "aws-config"
    keys = fakes3.credentials
    credentials.write_text(f"[{PROFILE}]\naws_access_key_id = {keys['aws_access_key_id']}\n"
                           f"aws_secret_access_key = {keys['aws_secret_access_key']}\n")
    config.write_text(f"[profile {PROFILE}]\nregion = {fakes3.region}\n"
                      f"endpoint_url = {fakes3.endpoint_url}\n")
    return _only_source(monkeypatch, tmp_path, fakes3, {
        "AWS_PROFILE": PROFILE, "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(config)})


@pytest.fixture
def imds_env(fakes3: FakeAWS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """EC2 instance metadata (IMDSv1 and IMDSv2) as the only credential source."""
    monkeypatch.setattr(fakes3.imds, "v2_only", False)
    return _only_source(monkeypatch, tmp_path, fakes3, fakes3.imds_env)


@pytest.fixture
def imds_v2_only_env(fakes3: FakeAWS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Instance metadata that refuses IMDSv1, as an instance with HttpTokens=required does."""
    monkeypatch.setattr(fakes3.imds, "v2_only", True)
    return _only_source(monkeypatch, tmp_path, fakes3, fakes3.imds_env)


@pytest.fixture
def ecs_env(fakes3: FakeAWS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """ECS container credentials (full URI plus authorization token) as the only source."""
    return _only_source(monkeypatch, tmp_path, fakes3, fakes3.ecs_env)
