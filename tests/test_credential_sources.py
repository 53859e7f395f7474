"""Each credential-source fixture, seen through boto3's default chain against strict auth."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest

# boto3's name for the provider that found the credentials.
METHODS = {
    "aws_env": "env",
    "aws_profile_env": "shared-credentials-file",
    "imds_env": "iam-role",
    "imds_v2_only_env": "iam-role",
    "ecs_env": "container-role",
}


@pytest.mark.parametrize("source", list(METHODS))
def test_default_chain_finds_the_source_and_s3_accepts_it(source, request, fakes3):
    request.getfixturevalue(source)
    session = boto3.session.Session()
    credentials = session.get_credentials()
    assert credentials.method == METHODS[source]
    s3 = session.client("s3")  # endpoint and region from the environment too
    s3.create_bucket(Bucket=f"via-{source.replace('_', '-')}")
    assert f"via-{source.replace('_', '-')}" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if source in ("imds_env", "imds_v2_only_env", "ecs_env"):
        assert credentials.token, "temporary credentials carry a session token"


@pytest.mark.parametrize("source", list(METHODS))
def test_the_aws_cli_in_a_subprocess_uses_the_source(source, request, tmp_path):
    request.getfixturevalue(source)
    aws = [sys.executable, "-m", "awscli"]
    made = subprocess.run([*aws, "s3", "mb", "s3://cli-source"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    listed = subprocess.run([*aws, "s3", "ls"], capture_output=True, text=True, timeout=60)
    assert "cli-source" in listed.stdout


def test_sources_are_exclusive(imds_env):
    import os

    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert "AWS_PROFILE" not in os.environ
