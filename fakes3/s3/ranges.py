"""The Range header of GetObject/HeadObject, resolved the way S3 resolves it.

One ``bytes=`` range is served (206); a range S3 cannot parse, a first byte after the last, or
several ranges at once are ignored and the whole object is served (200); a range that starts at
or after the end of the object is refused with 416 InvalidRange.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fakes3.errors import S3Error

_SPEC = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def resolve(header: str | None, size: int) -> ByteRange | None:
    """The bytes to serve; None means the whole object."""
    if header is None:
        return None
    match = _SPEC.fullmatch(header)
    if match is None:  # not one bytes= range (several ranges, other units, junk): ignored
        return None
    first, last = match.group(1), match.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise unsatisfiable(header, size)
        if size == 0:
            return None  # the last N bytes of nothing: the (empty) whole object
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    end = size - 1 if last == "" else int(last)
    if last != "" and end < start:
        return None  # syntactically invalid (RFC 9110 14.1.1): the header is ignored
    if start >= size:
        raise unsatisfiable(header, size)
    return ByteRange(start, min(end, size - 1))


def unsatisfiable(header: str, size: int) -> S3Error:
    return S3Error(
        "InvalidRange",
        f"The requested range is not satisfiable. The object is {size} bytes long; ask for a "
        "range that starts before its end.",
        416,
        fields={"RangeRequested": header, "ActualObjectSize": size},
        headers={"Content-Range": f"bytes */{size}"},
    )
