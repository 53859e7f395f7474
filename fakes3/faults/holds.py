"""Holds: named pause points, so a test can force an interleaving without sleeping.

A request that reaches a closed hold waits there. The test can wait until N requests have
arrived (``wait_arrived``), then let one through (``release_one``) or open the hold for good
(``release``). Every wait is bounded.
"""

from __future__ import annotations

import threading


class HoldTimeout(AssertionError):
    pass


class Hold:
    def __init__(self, name: str) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._open = False
        self._tickets = 0  # waiters that may pass (release_one)
        self.arrived = 0  # requests that reached the hold, ever
        self.waiting = 0  # requests waiting there now

    def pause(self, timeout: float) -> bool:
        """Called by a request: wait until released. False if the hold's timeout ran out."""
        with self._cond:
            self.arrived += 1
            self.waiting += 1
            self._cond.notify_all()
            try:
                released = self._cond.wait_for(lambda: self._open or self._tickets > 0, timeout)
                if released and not self._open:
                    self._tickets -= 1
                return released
            finally:
                self.waiting -= 1
                self._cond.notify_all()

    def wait_arrived(self, count: int = 1, timeout: float = 30.0) -> None:
        """Block until ``count`` requests in all have reached the hold."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.arrived >= count, timeout):
                raise HoldTimeout(f"hold {self.name!r}: {self.arrived} of {count} requests arrived "
                                  f"within {timeout} s")

    def release_one(self) -> None:
        with self._cond:
            self._tickets += 1
            self._cond.notify_all()

    def release(self) -> None:
        """Open the hold: everyone waiting, and everyone after, passes."""
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._open = False
            self._tickets = 0

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "arrived": self.arrived, "waiting": self.waiting, "open": self._open}


class Holds:
    """The holds of one fake, created on first use by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[str, Hold] = {}

    def __getitem__(self, name: str) -> Hold:
        with self._lock:
            hold = self._holds.get(name)
            if hold is None:
                hold = self._holds[name] = Hold(name)
            return hold

    def all(self) -> list[Hold]:
        with self._lock:
            return list(self._holds.values())

    def release_all(self) -> None:
        for hold in self.all():
            hold.release()

    def clear(self) -> None:
        """Release everyone still waiting, then forget every hold."""
        self.release_all()
        with self._lock:
            self._holds.clear()
