"""fakes3: a local AWS test double (S3, DynamoDB, instance metadata) with injectable faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["FakeAWS", "__version__"]

if TYPE_CHECKING:
    from fakes3.server import FakeAWS


def __getattr__(name: str) -> Any:
    # Lazy, so `import fakes3` (the pytest plugin is loaded in every pytest run) stays cheap.
    if name == "FakeAWS":
        from fakes3.server import FakeAWS

        return FakeAWS
    raise AttributeError(name)
