"""Test helpers: a clock that moves only when told, and a vendor of numbered credentials.

``SequentialVendor`` stands in for the credential store where none is wired (its keys are
well-formed but unknown to any verifier); ``FakeClock`` drives expiry without sleeping.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime

from fakes3.imds.credentials import Clock, TemporaryCredential

SIX_HOURS = 6 * 3600.0

# Everything that could give an SDK credentials (or a config) other than the endpoint under test:
# clear these, and point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at files that do not exist.
CREDENTIAL_ENV_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_V1_DISABLED", "AWS_METADATA_SERVICE_TIMEOUT", "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
)

# Loopback only: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeClock:
    """Seconds since the epoch, advanced explicitly (start: 2030-03-17, far from real time)."""

    def __init__(self, start: float = 1_900_000_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


class SequentialVendor:
    """Vends ``ASIA...`` credentials numbered 1, 2, ..., each valid ``lifetime`` seconds."""

    def __init__(self, *, lifetime: float = SIX_HOURS, clock: Clock = time.time,
                 prefix: str = "ASIAFAKES3") -> None:
        self.lifetime = lifetime
        self.clock = clock
        self.prefix = prefix
        self.issued: list[TemporaryCredential] = []
        self._lock = threading.Lock()

    def __call__(self) -> TemporaryCredential:
        with self._lock:
            number = len(self.issued) + 1
            credential = TemporaryCredential(
                access_key=f"{self.prefix}{number:0{20 - len(self.prefix)}d}",
                secret_key=base64.b64encode(secrets.token_bytes(30)).decode(),
                session_token=base64.b64encode(secrets.token_bytes(96)).decode(),
                expiration=datetime.fromtimestamp(self.clock() + self.lifetime, UTC),
            )
            self.issued.append(credential)
            return credential


def http_call(url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
              timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request; errors are answers too."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
