"""Accounts and their keys: the credential store every signed request is checked against.

The store always holds the default key pair ``test``/``test`` of account ``000000000000``; more
keys (of that account or others) come from ``FakeAWS(credentials=[...])``, the CLI, or a JSON
file. Temporary credentials (an ``ASIA...`` key, a secret, a session token and an expiry) are
issued at run time with ``issue_temporary``; the instance-metadata and ECS endpoints vend them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_ACCESS_KEY = "test"
DEFAULT_SECRET_KEY = "test"

Clock = Callable[[], float]

_ACCESS_KEY = re.compile(r"[^\s/,:=]{1,128}")
_ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Credential:
    """A key pair of one account; temporary when it has a session token (and then an expiry)."""

    access_key: str
    secret_key: str
    account_id: str = DEFAULT_ACCOUNT_ID
    session_token: str | None = None
    expires: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not _ACCESS_KEY.fullmatch(self.access_key or ""):
            raise ValueError(f"access key {self.access_key!r}: use 1-128 characters without "
                             "whitespace, '/', ',', ':' or '='")
        if not self.secret_key:
            raise ValueError(f"access key {self.access_key!r}: the secret key must not be empty")
        if not _ACCOUNT_ID.fullmatch(self.account_id or ""):
            raise ValueError(f"access key {self.access_key!r}: account id {self.account_id!r} "
                             "is not 12 digits")
        if self.session_token == "":
            raise ValueError(f"access key {self.access_key!r}: the session token must not be "
                             "empty (use None for a permanent key)")
        if self.expires is not None and self.expires.tzinfo is None:
            raise ValueError(f"access key {self.access_key!r}: expires must be timezone-aware "
                             "(e.g. datetime.now(timezone.utc) + ...)")

    @property
    def temporary(self) -> bool:
        return self.session_token is not None

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires.timestamp()

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client``/``Session``."""
        kwargs = {"aws_access_key_id": self.access_key, "aws_secret_access_key": self.secret_key}
        if self.session_token is not None:
            kwargs["aws_session_token"] = self.session_token
        return kwargs

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Credential:
        """From the JSON form: ``{"access_key", "secret_key", "account_id"?, "session_token"?,
        "expires"? (ISO 8601)}``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
        missing = [name for name in ("access_key", "secret_key") if not data.get(name)]
        if missing:
            raise ValueError(f"missing {' and '.join(missing)}")
        values = dict(data)
        if isinstance(values.get("expires"), str):
            try:
                values["expires"] = dt.datetime.fromisoformat(values["expires"])
            except ValueError:
                raise ValueError(f"expires {data['expires']!r} is not an ISO 8601 time") from None
        return cls(**values)


def credentials_from_json(text: str) -> list[Credential]:
    """A JSON list of credential objects (see ``Credential.from_dict``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of objects with access_key and secret_key")
    creds = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"item {i}: expected an object, not {type(item).__name__}")
        try:
            creds.append(Credential.from_dict(item))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"item {i}: {exc}") from None
    return creds


def credentials_from_text(text: str) -> list[Credential]:
    """``KEY:SECRET[:ACCOUNT_ID]`` items, comma-separated (FAKES3_CREDENTIALS); a text starting
    with ``[`` is read as JSON instead."""
    if text.lstrip().startswith("["):
        return credentials_from_json(text)
    creds = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"{item!r} is not KEY:SECRET or KEY:SECRET:ACCOUNT_ID")
        account = parts[2] if len(parts) == 3 else DEFAULT_ACCOUNT_ID
        creds.append(Credential(parts[0], parts[1], account))
    return creds


class CredentialStore:
    """Thread-safe map of access key -> Credential, with session tokens indexed too."""

    def __init__(self, credentials: Iterable[Credential] = (), *, clock: Clock = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, Credential] = {}
        self._by_token: dict[str, Credential] = {}
        self.default = self.add(Credential(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY))
        for credential in credentials:
            self.add(credential)

    def add(self, credential: Credential) -> Credential:
        """Add a key; adding the same credential twice is harmless, a conflicting one is not."""
        with self._lock:
            existing = self._by_key.get(credential.access_key)
            if existing is not None and existing != credential:
                raise ValueError(f"access key {credential.access_key!r} is already in the store "
                                 "with another secret, account or token")
            self._by_key[credential.access_key] = credential
            if credential.session_token is not None:
                self._by_token[credential.session_token] = credential
        return credential

    def expire(self, access_key: str) -> None:
        """Make a temporary credential expire now (a fault: "credentials expired now")."""
        with self._lock:
            credential = self._by_key.get(access_key)
            if credential is not None and credential.temporary:
                now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
                self._by_key[access_key] = dataclasses.replace(credential, expires=now)
                if credential.session_token:
                    self._by_token[credential.session_token] = self._by_key[access_key]

    def remove(self, access_key: str) -> None:
        with self._lock:
            credential = self._by_key.pop(access_key, None)
            if credential is not None and credential.session_token is not None:
                self._by_token.pop(credential.session_token, None)

    def get(self, access_key: str) -> Credential | None:
        return self._by_key.get(access_key)

    def by_token(self, session_token: str) -> Credential | None:
        return self._by_token.get(session_token)

    def issue_temporary(self, account_id: str = DEFAULT_ACCOUNT_ID,
                        lifetime: float | dt.timedelta = 3600) -> Credential:
        """New temporary credentials for ``account_id``, valid for ``lifetime`` (seconds) from
        the store's clock, like those STS, IMDS and ECS hand out."""
        seconds = lifetime.total_seconds() if isinstance(lifetime, dt.timedelta) else float(lifetime)
        expires = dt.datetime.fromtimestamp(int(self.clock() + seconds), dt.UTC)
        upper = string.ascii_uppercase + "234567"
        credential = Credential(
            access_key="ASIA" + "".join(secrets.choice(upper) for _ in range(16)),
            secret_key=secrets.token_urlsafe(30)[:40],
            account_id=account_id,
            session_token=secrets.token_urlsafe(144),
            expires=expires,
        )
        return self.add(credential)

    def __iter__(self) -> Iterator[Credential]:
        with self._lock:
            return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, access_key: object) -> bool:
        return access_key in self._by_key
