"""IMDSv2 session tokens: stateless, HMAC-signed, expiring by the service's clock.

A token carries its own expiry and a MAC over it under a per-service secret, so nothing is stored
per token (a client that asks for a token on every call cannot grow the server's memory), a
token from another service or an earlier run is simply unknown, and ``revoke_all()`` invalidates
every outstanding token at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

MIN_TTL = 1
MAX_TTL = 21600  # six hours

_EXPIRY = struct.Struct(">d")
_MAC_SIZE = 24


class TokenIssuer:
    def __init__(self) -> None:
        self._secret = os.urandom(32)

    def issue(self, now: float, ttl: int) -> str:
        payload = _EXPIRY.pack(now + ttl) + os.urandom(8)
        return base64.b64encode(payload + self._mac(payload)).decode("ascii")

    def valid(self, token: str, now: float) -> bool:
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return False
        if len(raw) != _EXPIRY.size + 8 + _MAC_SIZE:
            return False
        payload, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            return False
        (expires,) = _EXPIRY.unpack_from(payload)
        return bool(now < expires)

    def revoke_all(self) -> None:
        self._secret = os.urandom(32)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_SIZE]


def parse_ttl(value: str | None) -> int | None:
    """The TTL header's value if it is an integer within 1..21600, else None."""
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return None
    ttl = int(value)
    return ttl if MIN_TTL <= ttl <= MAX_TTL else None
