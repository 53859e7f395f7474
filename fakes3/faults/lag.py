"""How long a lagging view lasts: a number of reads (a logical clock, the default, so tests do not
depend on wall time), or a number of wall-clock seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Lag:
    before: Any  # what the lagging reads see
    remaining: int  # reads (or listings) left, when counting
    seconds: float = 0.0  # > 0: the view lasts this long instead, whatever the count
    start: float = field(default_factory=time.monotonic)

    def use(self) -> bool:
        """Called by one read: whether it sees the lagging view."""
        if self.seconds > 0:
            return time.monotonic() - self.start < self.seconds
        self.remaining -= 1
        return self.remaining >= 0

    @property
    def spent(self) -> bool:
        if self.seconds > 0:
            return time.monotonic() - self.start >= self.seconds
        return self.remaining <= 0
