"""Version IDs: opaque, URL-safe, unique, and in creation order when sorted as strings.

An ID is 32 characters, like S3's, from the URL-safe alphabet ``.0-9A-Z_a-z`` (the characters of
the IDs S3 hands out), listed in ASCII order so that string order is numeric order. It encodes 24
bytes: a sequence number (8, big-endian: microseconds since the epoch, bumped to stay strictly
increasing, plus a constant that makes every ID start with letters, not dots), 12 random bytes, and
a 4-byte check. The check lets fakes3 answer S3's 400
InvalidArgument "Invalid version id specified" for a string it never issued, and 404 NoSuchVersion
for one it issued whose version is gone, as S3 does.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

LENGTH = 32
ALPHABET = ".0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_CHECK_KEY = b"fakes3 version id"
# The top 12 of the 64 sequence bits: "Vj", the first two characters of every ID. Microseconds
# since the epoch stay below 2**52 until the year 2112.
_OFFSET = (ALPHABET.index("V") << 58) | (ALPHABET.index("j") << 52)

_lock = threading.Lock()
_last = 0


def next_sequence() -> int:
    """A process-wide, strictly increasing number: microseconds since the epoch, or one more."""
    global _last
    with _lock:
        _last = max(_last + 1, time.time_ns() // 1000)
        return _last


def encode(sequence: int) -> str:
    body = (sequence + _OFFSET).to_bytes(8, "big") + secrets.token_bytes(12)
    number = int.from_bytes(body + _check(body), "big")
    chars = []
    for _ in range(LENGTH):
        chars.append(ALPHABET[number & 63])
        number >>= 6
    return "".join(reversed(chars))


def decode(version_id: str) -> int | None:
    """The sequence number of an ID fakes3 issued, or None for any other string."""
    if len(version_id) != LENGTH:
        return None
    number = 0
    for char in version_id:
        index = _INDEX.get(char)
        if index is None:
            return None
        number = (number << 6) | index
    raw = number.to_bytes(24, "big")
    sequence = int.from_bytes(raw[:8], "big") - _OFFSET
    if raw[20:] != _check(raw[:20]) or sequence < 0:
        return None
    return sequence


def _check(body: bytes) -> bytes:
    return hashlib.blake2s(body, digest_size=4, key=_CHECK_KEY).digest()
