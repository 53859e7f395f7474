"""The control plane under ``/_fakes3/``: health and reset (faults and the journal join later)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from fakes3.protocol.http import HttpRequest
from fakes3.protocol.s3_http import Response

JSON = ("Content-Type", "application/json")


class ControlPlane:
    def __init__(self, services: Iterable[str], reset: Callable[[], None], version: str) -> None:
        self.services = list(services)
        self.reset = reset
        self.version = version

    def handle(self, request: HttpRequest) -> Response:
        path = request.raw_path.rstrip("/")
        if path == "/_fakes3/health" and request.method in ("GET", "HEAD"):
            return self._json(200, {"status": "ok", "services": self.services,
                                    "version": self.version})
        if path == "/_fakes3/reset" and request.method == "POST":
            self.reset()
            return self._json(200, {"reset": True})
        return self._json(404, {"error": "NotFound",
                                "message": f"No control endpoint {request.method} {path}; "
                                           "try GET /_fakes3/health or POST /_fakes3/reset."})

    @staticmethod
    def _json(status: int, payload: dict[str, Any]) -> Response:
        body = json.dumps(payload).encode()
        return status, [JSON, ("Content-Length", str(len(body)))], [body]
