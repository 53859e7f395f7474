"""docker/Dockerfile, checked without a Docker daemon: hadolint, and its CMD and HEALTHCHECK run as
written (with its ENV) on this machine, on loopback and a free port instead of 0.0.0.0:4566."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sysconfig
import threading
import urllib.request
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
SCRIPTS = Path(sysconfig.get_path("scripts"))
STARTUP_TIMEOUT = 20.0
EXIT_TIMEOUT = 15.0


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments and blank lines dropped, continuations joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def image_env(parsed: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in parsed:
        if keyword != "ENV":
            continue
        words = shlex.split(arguments)
        if "=" not in words[0]:  # legacy form: ENV KEY value with spaces
            env[words[0]] = arguments.split(None, 1)[1]
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def exec_form(arguments: str) -> list[str]:
    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(w, str) for w in command), arguments
    return command


def the(parsed: list[tuple[str, str]], keyword: str) -> str:
    """The arguments of the last ``keyword`` instruction (the one Docker uses)."""
    matches = [arguments for k, arguments in parsed if k == keyword]
    assert matches, f"no {keyword} in {DOCKERFILE}"
    return matches[-1]


def healthcheck_command(parsed: list[tuple[str, str]]) -> list[str]:
    match = re.fullmatch(r"(?:--\S+\s+)*CMD\s+(.*)", the(parsed, "HEALTHCHECK"), re.DOTALL)
    assert match, "HEALTHCHECK must be [OPTIONS] CMD [exec form]"
    return exec_form(match.group(1))


def read_line(stream: IO[str], timeout: float) -> str:
    """The stream's next line ('' at EOF); fails the test if none arrives within ``timeout``."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no line on stdout within {timeout} s") from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(SCRIPTS)) or shutil.which("hadolint")
    assert hadolint, "hadolint not found: it comes with the test extra (pip install -e '.[test]')"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_shape(parsed: list[tuple[str, str]]) -> None:
    base = the(parsed, "FROM").split()[0]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), f"pin a Python 3.11 slim tag: {base}"
    assert the(parsed, "USER").split(":")[0] not in ("root", "0")
    assert the(parsed, "EXPOSE").split() == ["4566"]
    env = image_env(parsed)
    assert (env["FAKES3_HOST"], env["FAKES3_PORT"]) == ("0.0.0.0", "4566")
    assert exec_form(the(parsed, "CMD")) == ["fakes3", "serve"]
    assert "http://127.0.0.1:" in " ".join(healthcheck_command(parsed))
    assert "/_fakes3/health" in " ".join(healthcheck_command(parsed))


def test_cmd_serves_and_passes_healthcheck_then_stops_on_sigterm(
    parsed: list[tuple[str, str]], tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, **image_env(parsed), "FAKES3_HOST": "127.0.0.1", "FAKES3_PORT": str(port),
           "PATH": os.pathsep.join([str(SCRIPTS), os.environ.get("PATH", "")])}
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(exec_form(the(parsed, "CMD")), env=env, stdout=subprocess.PIPE,
                                stderr=stderr, text=True)
    try:
        assert proc.stdout is not None
        line = read_line(proc.stdout, STARTUP_TIMEOUT)
        assert line == f"fakes3 listening on http://127.0.0.1:{port}\n", stderr_path.read_text()

        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(f"http://127.0.0.1:{port}/_fakes3/health", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            assert "s3" in json.load(response)["services"]

        health = subprocess.run(healthcheck_command(parsed), env=env, capture_output=True, text=True,
                                timeout=30)
        assert health.returncode == 0, health.stderr

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=EXIT_TIMEOUT) == 0, stderr_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=EXIT_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()


def test_healthcheck_fails_when_nothing_serves(parsed: list[tuple[str, str]]) -> None:
    with socket.socket() as bound_not_listening:  # connections to it are refused, deterministically
        bound_not_listening.bind(("127.0.0.1", 0))
        env = {**os.environ, **image_env(parsed), "FAKES3_PORT": str(bound_not_listening.getsockname()[1]),
               "PATH": os.pathsep.join([str(SCRIPTS), os.environ.get("PATH", "")])}
        health = subprocess.run(healthcheck_command(parsed), env=env, capture_output=True, text=True,
                                timeout=30)
    assert health.returncode != 0


def test_compose_runs_the_image_on_4566() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    service = compose["services"]["fakes3"]
    context = ROOT / "docker" / service["build"]["context"]
    assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert any(str(port).endswith("4566:4566") for port in service["ports"])
