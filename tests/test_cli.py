"""``fakes3 serve`` as a user runs it: a real process, its one stdout line, boto3, signals, exit codes."""

from __future__ import annotations

import http.client
import os
import queue
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from fakes3 import cli

SCRIPTS = Path(sysconfig.get_path("scripts"))
LAUNCHERS = {
    "console-script": [str(SCRIPTS / "fakes3")],
    "python-m": [sys.executable, "-m", "fakes3"],
}
STARTUP_TIMEOUT = 20.0
EXIT_TIMEOUT = 15.0
ENV_VARS = ("FAKES3_HOST", "FAKES3_PORT", "FAKES3_REGION", "FAKES3_VIRTUAL_HOST_DOMAINS", "FAKES3_LOG_LEVEL",
            "FAKES3_AUTH", "FAKES3_CREDENTIALS", "FAKES3_CREDENTIALS_FILE", "FAKES3_IMDS_PORT",
            "FAKES3_IMDS_V2_ONLY", "FAKES3_PROFILE", "FAKES3_FAULTS", "FAKES3_CONTROL_TOKEN")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without any FAKES3_* the caller may have set, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(overrides)
    return env


def read_line(stream: IO[str], timeout: float) -> str:
    """The stream's next line ('' at EOF); fails the test if none arrives within ``timeout``."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no line on stdout within {timeout} s") from None


@contextmanager
def serving(
    command: list[str], env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Starts ``command``, yields it with its first stdout line; kills it (by PID) if still alive."""
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert proc.stdout is not None
        line = read_line(proc.stdout, STARTUP_TIMEOUT)
        assert line, f"exited {proc.wait(timeout=EXIT_TIMEOUT)} before serving: {stderr_path.read_text()}"
        yield proc, line
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=EXIT_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()


def s3_client(endpoint: str, region: str = "us-east-1", **config: Any) -> Any:
    timeouts = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}, **config)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                        region_name=region, config=timeouts)


def round_trip(endpoint: str, region: str = "us-east-1") -> None:
    s3 = s3_client(endpoint, region)
    if region == "us-east-1":
        s3.create_bucket(Bucket="cli-bucket")
    else:  # the fake, like S3, refuses a bucket without a constraint outside us-east-1
        s3.create_bucket(Bucket="cli-bucket", CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_object(Bucket="cli-bucket", Key="hello.txt", Body=b"hello from fakes3 serve")
    assert s3.get_object(Bucket="cli-bucket", Key="hello.txt")["Body"].read() == b"hello from fakes3 serve"


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=STARTUP_TIMEOUT)


# -- serving, then stopping -------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_serve_prints_one_line_serves_boto3_and_exits_0_on_signal(
    launcher: str, stop: signal.Signals, tmp_path: Path
) -> None:
    port = free_port()
    command = [*LAUNCHERS[launcher], "serve", "--port", str(port)]
    with serving(command, clean_env(), tmp_path) as (proc, line):
        assert line == f"fakes3 listening on http://127.0.0.1:{port}\n"
        round_trip(f"http://127.0.0.1:{port}")
        proc.send_signal(stop)
        assert proc.wait(timeout=EXIT_TIMEOUT) == 0, (tmp_path / "stderr.txt").read_text()
        assert proc.stdout is not None
        assert proc.stdout.read() == "", "serve prints exactly one line"
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


def test_environment_configures_serve(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(FAKES3_HOST="127.0.0.1", FAKES3_PORT=str(port), FAKES3_REGION="eu-west-2",
                    FAKES3_VIRTUAL_HOST_DOMAINS="s3.example.test, localhost", FAKES3_LOG_LEVEL="info")
    with serving([*LAUNCHERS["console-script"], "serve"], env, tmp_path) as (proc, line):
        assert line == f"fakes3 listening on http://127.0.0.1:{port}\n"
        round_trip(f"http://127.0.0.1:{port}", region="eu-west-2")
        # Virtual-host addressing under the domain from the environment: a URL presigned for
        # cli-bucket.s3.example.test, sent to loopback with that Host header (no DNS needed).
        signer = s3_client(f"http://s3.example.test:{port}", "eu-west-2", s3={"addressing_style": "virtual"})
        url = urlsplit(signer.generate_presigned_url(
            "get_object", Params={"Bucket": "cli-bucket", "Key": "hello.txt"}, ExpiresIn=300))
        assert url.netloc == f"cli-bucket.s3.example.test:{port}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", f"{url.path}?{url.query}", headers={"Host": url.netloc})
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"hello from fakes3 serve")
        finally:
            connection.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=EXIT_TIMEOUT) == 0


def test_flags_win_over_environment(tmp_path: Path) -> None:
    env_port, flag_port = free_port(), free_port()
    env = clean_env(FAKES3_PORT=str(env_port), FAKES3_LOG_LEVEL="not-a-level")
    command = [*LAUNCHERS["python-m"], "serve", "--port", str(flag_port), "--log-level", "ERROR"]
    with serving(command, env, tmp_path) as (proc, line):
        assert line == f"fakes3 listening on http://127.0.0.1:{flag_port}\n"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=EXIT_TIMEOUT) == 0


def test_every_option_defaults_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    defaults = cli._parse(["serve"])
    assert (defaults.host, defaults.port, defaults.region, defaults.domains, defaults.log_level) == (
        "127.0.0.1", 4566, "us-east-1", ["localhost"], "WARNING")

    monkeypatch.setenv("FAKES3_HOST", "0.0.0.0")
    monkeypatch.setenv("FAKES3_PORT", "9000")
    monkeypatch.setenv("FAKES3_REGION", "eu-west-2")
    monkeypatch.setenv("FAKES3_VIRTUAL_HOST_DOMAINS", "a.test, b.test,")
    monkeypatch.setenv("FAKES3_LOG_LEVEL", "debug")
    from_env = cli._parse(["serve"])
    assert (from_env.host, from_env.port, from_env.region, from_env.domains, from_env.log_level) == (
        "0.0.0.0", 9000, "eu-west-2", ["a.test", "b.test"], "DEBUG")

    flags = cli._parse(["serve", "--host", "127.0.0.2", "--port", "0", "--region", "ap-south-1",
                        "--virtual-host-domain", "c.test", "--virtual-host-domain", "d.test",
                        "--log-level", "error"])
    assert (flags.host, flags.port, flags.region, flags.domains, flags.log_level) == (
        "127.0.0.2", 0, "ap-south-1", ["c.test", "d.test"], "ERROR")


def test_main_hands_every_option_to_fakeaws(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, Any] = {}

    class Unbindable:
        def __init__(self, **options: Any) -> None:
            seen.update(options)

        def start(self) -> None:
            raise OSError(98, "Address already in use")

        def stop(self) -> None:
            seen["stopped"] = True

    monkeypatch.setattr("fakes3.server.FakeAWS", Unbindable)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # leave pytest's handlers alone
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kwargs: None)
    monkeypatch.setenv("FAKES3_REGION", "eu-west-2")
    monkeypatch.setenv("FAKES3_VIRTUAL_HOST_DOMAINS", "a.test,b.test")
    assert cli.main(["serve", "--host", "127.0.0.3", "--port", "4567"]) == 1
    assert seen == {"host": "127.0.0.3", "port": 4567, "region": "eu-west-2",
                    "virtual_host_domains": ["a.test", "b.test"], "auth": "strict", "credentials": [],
                    "imds": False, "imds_port": 0, "imds_v2_only": False, "profile": "aws",
                    "control_token": None, "stopped": True}
    assert capsys.readouterr().err == "fakes3: cannot listen on 127.0.0.3:4567: Address already in use\n"


def test_help_documents_every_variable() -> None:
    result = run([*LAUNCHERS["console-script"], "serve", "--help"], clean_env())
    assert result.returncode == 0
    for name in ENV_VARS:
        assert name in result.stdout


# -- refusing to start ------------------------------------------------------------------------------


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.mark.parametrize("value", ["abc", "65536", "-1", ""])
def test_bad_port_flag_exits_2_with_one_line(value: str) -> None:
    result = run([*LAUNCHERS["console-script"], "serve", "--port", value], clean_env())
    assert_one_line_error(result, 2, "--port")


@pytest.mark.parametrize(("name", "value"), [("FAKES3_PORT", "http"), ("FAKES3_LOG_LEVEL", "loud"),
                                            ("FAKES3_VIRTUAL_HOST_DOMAINS", " , ")])
def test_bad_variable_exits_2_naming_it(name: str, value: str) -> None:
    result = run([*LAUNCHERS["python-m"], "serve"], clean_env(**{name: value}))
    assert_one_line_error(result, 2, name, repr(value))


def test_taken_port_exits_1_with_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        result = run([*LAUNCHERS["console-script"], "serve", "--port", str(port)], clean_env())
    assert_one_line_error(result, 1, f"cannot listen on 127.0.0.1:{port}")


def test_imds_port_vends_credentials_that_s3_accepts(tmp_path: Path) -> None:
    port, imds_port = free_port(), free_port()
    command = [*LAUNCHERS["console-script"], "serve", "--port", str(port), "--imds-port", str(imds_port),
               "--imds-v2-only"]
    with serving(command, clean_env(), tmp_path) as (proc, line):
        assert line == f"fakes3 listening on http://127.0.0.1:{port}\n"
        # A fresh process whose only credential source is the instance metadata endpoint.
        env = {k: v for k, v in clean_env().items() if not k.startswith("AWS_")}
        env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{imds_port}/",
                   AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   AWS_DEFAULT_REGION="us-east-1")
        code = ("import boto3; s = boto3.session.Session(); c = s.get_credentials();"
                f"s.client('s3', endpoint_url='http://127.0.0.1:{port}').create_bucket(Bucket='from-imds');"
                "print(s.get_credentials().method, bool(c.token))")
        result = run([sys.executable, "-c", code], env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["iam-role", "True"]
        assert "instance metadata on" in (tmp_path / "stderr.txt").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=EXIT_TIMEOUT) == 0
