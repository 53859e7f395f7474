"""Temporary credentials as the metadata endpoints vend them, and the cache that rotates them.

The endpoints never mint keys themselves: a *vendor* (``Callable[[], TemporaryCredential]``, in
practice the credential store of ``fakes3.auth``) is called whenever fresh credentials are needed.
What it returns is cached and served until it comes within the *refresh margin* of its expiry;
then the next request vends a new set, while the old one stays valid until it expires — as EC2
and ECS do ("new credentials are made available before the old ones expire").

Why the margin is 30 minutes by default
---------------------------------------
botocore (``credentials.RefreshableCredentials``) refreshes 15 minutes before expiry (advisory;
10 minutes: mandatory). For IMDS it also applies *static stability*
(``utils.InstanceMetadataFetcher._evaluate_expiration``): credentials fetched with less than
``ec2_credential_refresh_window`` (15 min) plus a random 2-10 min jitter left — at most 25 minutes —
are taken to mean "IMDS is unhealthy", and botocore pretends they expire 17-25 minutes from now,
i.e. possibly *after* they really expire. So an IMDS must never hand out credentials with 25
minutes or less left; real EC2 never does (credentials last about 6 hours and are replaced well
before). With a 30-minute margin:

- what the endpoint serves always has more than 30 minutes left: botocore's extension never fires;
- when botocore refreshes (15 minutes before expiry) the endpoint has already rotated, so one
  refresh yields the next credentials — no retry storm within the advisory window;
- botocore's mandatory refresh (10 minutes before expiry) never receives credentials it would
  reject as still expiring.

For short-lived test credentials (a lifetime of an hour or less) the margin is capped at half the
lifetime, so a credential is always served for at least half its life. Lifetimes under about 50
minutes do let botocore's IMDS static-stability extension fire (by design of botocore): give IMDS
credentials an hour or more (AWS: 6 hours) unless that is what a test wants.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_REFRESH_MARGIN = 30 * 60.0

# EC2 and ECS both write timestamps as "2024-01-01T00:00:00Z" (botocore's IMDS fetcher parses
# exactly this format with strptime).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class TemporaryCredential:
    """One set of temporary credentials; ``expiration`` is an aware datetime (naive means UTC)."""

    access_key: str
    secret_key: str
    session_token: str
    expiration: datetime

    @property
    def expires_at(self) -> float:
        """Expiration as seconds since the epoch."""
        expiration = self.expiration
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=UTC)
        return expiration.timestamp()


Vendor = Callable[[], TemporaryCredential]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Vended:
    """A credential and when the endpoint started serving it (IMDS's ``LastUpdated``)."""

    credential: TemporaryCredential
    issued_at: float


def vendor_from_store(store: Any, account_id: str = "000000000000",
                      lifetime: float = 6 * 3600.0) -> Vendor:
    """A vendor issuing from a credential store (``fakes3.auth.CredentialStore`` or anything with
    ``issue_temporary(account_id, lifetime)`` returning ``access_key, secret_key, session_token,
    expires``), so what the endpoints hand out is what the S3 verifier accepts. Default lifetime:
    6 hours, like EC2's role credentials."""

    def vend() -> TemporaryCredential:
        issued = store.issue_temporary(account_id, lifetime)
        return TemporaryCredential(issued.access_key, issued.secret_key, issued.session_token,
                                   issued.expires)

    return vend


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(TIME_FORMAT)


class CredentialCache:
    """Serves the vendor's current credential; asks for a new one within the refresh margin."""

    def __init__(self, vendor: Vendor, *, clock: Clock = time.time,
                 refresh_margin: float = DEFAULT_REFRESH_MARGIN) -> None:
        if refresh_margin < 0:
            raise ValueError(f"refresh_margin must not be negative: {refresh_margin}")
        self.vendor = vendor
        self.clock = clock
        self.refresh_margin = float(refresh_margin)
        self._lock = threading.Lock()
        self._current: Vended | None = None
        self.vend_count = 0

    def current(self) -> Vended:
        """The credential to serve now (calls the vendor, under a lock, when none is fresh)."""
        with self._lock:
            now = self.clock()
            if self._current is None or self._due(self._current, now):
                credential = self.vendor()
                if not isinstance(credential, TemporaryCredential):
                    raise TypeError(f"vendor returned {type(credential).__name__}, "
                                    "not a TemporaryCredential")
                self._current = Vended(credential, now)
                self.vend_count += 1
            return self._current

    def peek(self) -> Vended | None:
        """The credential last served, without vending (None before the first request)."""
        with self._lock:
            return self._current

    def rotate(self) -> None:
        """Forget the current credential: the next request vends a new one (a fault seam)."""
        with self._lock:
            self._current = None

    def margin_for(self, vended: Vended) -> float:
        lifetime = vended.credential.expires_at - vended.issued_at
        return min(self.refresh_margin, max(lifetime, 0.0) / 2)

    def _due(self, vended: Vended, now: float) -> bool:
        return now >= vended.credential.expires_at - self.margin_for(vended)
