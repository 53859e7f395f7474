"""Keys and accounts: the credential store, its file and text forms, and the CLI's auth flags."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fakes3 import cli
from fakes3.auth import (
    DEFAULT_ACCOUNT_ID,
    Credential,
    CredentialStore,
    credentials_from_json,
    credentials_from_text,
)

FAKES3 = str(Path(sys.executable).with_name("fakes3"))
TIMEOUT = 20.0


# -- Credential and CredentialStore -----------------------------------------------------------


def test_the_store_always_holds_the_default_key():
    store = CredentialStore()
    default = store.get("test")
    assert default == Credential("test", "test", DEFAULT_ACCOUNT_ID) == store.default
    assert len(store) == 1 and "test" in store and store.get("nope") is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"access_key": "a/b", "secret_key": "s"}, "without whitespace"),
    ({"access_key": "", "secret_key": "s"}, "1-128 characters"),
    ({"access_key": "k", "secret_key": ""}, "secret key must not be empty"),
    ({"access_key": "k", "secret_key": "s", "account_id": "12"}, "not 12 digits"),
    ({"access_key": "k", "secret_key": "s", "session_token": ""}, "session token must not be empty"),
    ({"access_key": "k", "secret_key": "s", "expires": dt.datetime(2030, 1, 1)}, "timezone-aware"),
])
def test_credentials_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Credential(**kwargs)


def test_adding_a_conflicting_key_is_refused_and_the_same_key_is_harmless():
    store = CredentialStore([Credential("AKIA1", "s1", "111111111111")])
    store.add(Credential("AKIA1", "s1", "111111111111"))
    with pytest.raises(ValueError, match="already in the store"):
        store.add(Credential("AKIA1", "other", "111111111111"))
    with pytest.raises(ValueError, match="already in the store"):
        CredentialStore([Credential("test", "not-test")])
    store.remove("AKIA1")
    assert store.get("AKIA1") is None


def test_issue_temporary_vends_session_credentials_that_expire_on_the_store_clock():
    now = [1_700_000_000.0]
    store = CredentialStore(clock=lambda: now[0])
    first = store.issue_temporary("123456789012", lifetime=dt.timedelta(minutes=15))
    second = store.issue_temporary(lifetime=60)
    assert first.access_key.startswith("ASIA") and len(first.access_key) == 20
    assert first.account_id == "123456789012" and second.account_id == DEFAULT_ACCOUNT_ID
    assert first.session_token and first.session_token != second.session_token
    assert first.expires == dt.datetime.fromtimestamp(now[0] + 900, dt.UTC)
    assert store.get(first.access_key) is first and store.by_token(first.session_token) is first
    assert not first.expired(now[0] + 899) and first.expired(now[0] + 900)
    assert first.client_kwargs() == {"aws_access_key_id": first.access_key,
                                     "aws_secret_access_key": first.secret_key,
                                     "aws_session_token": first.session_token}
    store.remove(first.access_key)
    assert store.by_token(first.session_token) is None


def test_the_json_form():
    creds = credentials_from_json(json.dumps([
        {"access_key": "AKIA1", "secret_key": "s1"},
        {"access_key": "ASIA2", "secret_key": "s2", "account_id": "222222222222",
         "session_token": "tok", "expires": "2030-01-01T00:00:00Z"},
    ]))
    assert creds[0] == Credential("AKIA1", "s1")
    assert creds[1].expires == dt.datetime(2030, 1, 1, tzinfo=dt.UTC) and creds[1].temporary
    for text, message in [("{}", "expected a JSON list"), ("[1]", "item 0: expected an object"),
                          ('[{"access_key": "a"}]', "item 0: missing secret_key"),
                          ('[{"access_key": "a", "secret_key": "b", "secret": 1}]', "unknown field"),
                          ('[{"access_key": "a", "secret_key": "b", "expires": "soon"}]', "ISO 8601"),
                          ("[", "not JSON")]:
        with pytest.raises(ValueError, match=message):
            credentials_from_json(text)


def test_the_text_form():
    assert credentials_from_text("AKIA1:s1, AKIA2:s2:222222222222,") == [
        Credential("AKIA1", "s1"), Credential("AKIA2", "s2", "222222222222")]
    assert credentials_from_text('[{"access_key": "a", "secret_key": "b"}]') == [Credential("a", "b")]
    with pytest.raises(ValueError, match="KEY:SECRET"):
        credentials_from_text("only-a-key")


# -- CLI flags, parsed ------------------------------------------------------------------------


@pytest.fixture
def no_auth_env(monkeypatch):
    for name in ("FAKES3_AUTH", "FAKES3_CREDENTIALS", "FAKES3_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cli_auth_defaults_to_strict_with_no_extra_keys(no_auth_env):
    args = cli._parse(["serve"])
    assert (args.auth, args.credentials) == ("strict", [])


def test_cli_key_pairs_a_credentials_file_and_the_environment(no_auth_env, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([{"access_key": "AKIAFILE", "secret_key": "f", "account_id": "333333333333"}]))
    args = cli._parse(["serve", "--auth", "OPEN", "--access-key", "AKIA1", "--secret-key", "s1",
                       "--access-key", "AKIA2", "--secret-key", "s2", "--credentials-file", str(path)])
    assert args.auth == "open"
    assert args.credentials == [Credential("AKIA1", "s1"), Credential("AKIA2", "s2"),
                                Credential("AKIAFILE", "f", "333333333333")]
    no_auth_env.setenv("FAKES3_AUTH", "open")
    no_auth_env.setenv("FAKES3_CREDENTIALS", "AKIAENV:e:444444444444")
    no_auth_env.setenv("FAKES3_CREDENTIALS_FILE", str(path))
    args = cli._parse(["serve"])
    assert args.auth == "open"
    assert args.credentials == [Credential("AKIAENV", "e", "444444444444"),
                                Credential("AKIAFILE", "f", "333333333333")]
    args = cli._parse(["serve", "--auth", "strict", "--access-key", "AKIA1", "--secret-key", "s1"])
    assert args.auth == "strict" and args.credentials[0] == Credential("AKIA1", "s1")  # flags win


@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--access-key", "AKIA1"], {}, "1 --access-key but 0 --secret-key"),
    (["--auth", "lax"], {}, "not one of strict, open"),
    (["--credentials-file", "/nonexistent/keys.json"], {}, "No such file"),
    ([], {"FAKES3_CREDENTIALS": "broken"}, "FAKES3_CREDENTIALS"),
    ([], {"FAKES3_AUTH": "none"}, "FAKES3_AUTH"),
    (["--access-key", "a/b", "--secret-key", "s"], {}, "--access-key"),
])
def test_cli_auth_usage_errors_exit_2_with_one_line(no_auth_env, capsys, argv, env, message):
    for name, value in env.items():
        no_auth_env.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        cli._parse(["serve", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# -- CLI flags, served ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _line(stream: IO[str]) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=TIMEOUT)
    except queue.Empty:
        raise AssertionError(f"no line within {TIMEOUT} s") from None


@contextmanager
def _serve(*flags: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKES3_")}
    proc = subprocess.Popen([FAKES3, "serve", "--port", str(port), *flags], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = _line(proc.stdout)
        assert line == f"fakes3 listening on http://127.0.0.1:{port}\n", line
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.kill()  # this test's own process, by its handle
        proc.wait(timeout=TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _client(endpoint: str, key: str, secret: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10))


def test_serve_with_extra_keys_verifies_them(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([{"access_key": "AKIAFILE", "secret_key": "f", "account_id": "333333333333"}]))
    flags = ("--access-key", "AKIAFLAG", "--secret-key", "sf", "--credentials-file", str(path))
    with _serve(*flags) as (url, _):
        _client(url, "AKIAFLAG", "sf").create_bucket(Bucket="flag-bucket")
        assert [b["Name"] for b in _client(url, "test", "test").list_buckets()["Buckets"]] == ["flag-bucket"]
        assert _client(url, "AKIAFILE", "f").list_buckets()["Buckets"] == []  # another account
        with pytest.raises(ClientError) as err:
            _client(url, "AKIAFLAG", "wrong").list_buckets()
        assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_serve_auth_open_warns_and_accepts_a_wrong_secret():
    with _serve("--auth", "open") as (url, proc):
        assert proc.stderr is not None
        warning = _line(proc.stderr)
        assert warning.startswith("fakes3: WARNING: --auth open: any access key and signature is accepted")
        client = _client(url, "test", "wrong")
        client.create_bucket(Bucket="open-bucket")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["open-bucket"]
