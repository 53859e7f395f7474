"""The plugin as a downstream project sees it: installed, no conftest, fixtures just there."""

from __future__ import annotations

DOWNSTREAM_TESTS = '''
import os
import subprocess
import sys

import boto3


def test_first_writes(s3_client):
    s3_client.create_bucket(Bucket="downstream")
    s3_client.put_object(Bucket="downstream", Key="k", Body=b"v")
    assert s3_client.get_object(Bucket="downstream", Key="k")["Body"].read() == b"v"


def test_state_was_reset_between_tests(s3_client):
    assert s3_client.list_buckets()["Buckets"] == []


def test_aws_env_points_any_sdk_at_the_fake(aws_env, fakes3):
    assert os.environ["AWS_ENDPOINT_URL"] == fakes3.endpoint_url
    boto3.client("s3").create_bucket(Bucket="from-env")   # no endpoint passed: from the env
    code = "import boto3; print([b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "['from-env']", out.stderr


def test_one_server_per_session(fakes3, fakes3_server):
    assert fakes3 is fakes3_server
'''


def test_fixtures_work_in_a_downstream_suite(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=4)


def test_fixtures_work_under_xdist(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=4)
