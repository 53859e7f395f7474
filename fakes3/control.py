"""The control plane under ``/_fakes3/``: health, reset, faults, holds and the request journal.

It is not a back door: it answers only requests from loopback, or requests carrying the control
token (``X-Fakes3-Control-Token``) given at start-up when the server is bound elsewhere.

    GET    /_fakes3/health                  {"status": "ok", "services": [...]}
    POST   /_fakes3/reset                   forget all state
    GET    /_fakes3/faults                  the rules, with how often each matched and applied
    POST   /_fakes3/faults                  add a rule (or a list); 400 names the invalid field
    DELETE /_fakes3/faults[/<id>]           remove one rule, or all (releasing every hold)
    GET    /_fakes3/journal                 the request journal as JSON Lines; DELETE clears it
    GET    /_fakes3/holds/<name>            arrived / waiting / open
    POST   /_fakes3/holds/<name>/wait?count=N&timeout=S   until N requests reached it (408 if not)
    POST   /_fakes3/holds/<name>/release    open it;  .../release-one: let one request through
    POST   /_fakes3/dynamodb/expire-ttl     delete the DynamoDB items whose TTL has passed now
    POST   /_fakes3/s3/apply-lifecycle      act on every bucket's S3 Lifecycle rules now (counts)
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable, Iterable
from typing import Any

from fakes3.faults import FaultController, HoldTimeout, RuleError
from fakes3.protocol.http import HttpRequest
from fakes3.protocol.s3_http import Response

JSON = ("Content-Type", "application/json")
TOKEN_HEADER = "X-Fakes3-Control-Token"
MAX_BODY = 1 << 20


class ControlPlane:
    def __init__(self, services: Iterable[str], reset: Callable[[], None], version: str,
                 faults: FaultController | None = None, token: str | None = None,
                 expire_ttl: Callable[[], int] | None = None,
                 apply_lifecycle: Callable[[], dict[str, int]] | None = None) -> None:
        self.services = list(services)
        self.reset = reset
        self.version = version
        self.faults = faults or FaultController()
        self.token = token
        self.expire_ttl = expire_ttl
        self.apply_lifecycle = apply_lifecycle

    def handle(self, request: HttpRequest) -> Response:
        if not self._allowed(request):
            return _json(403, {"error": "AccessDenied", "message": "The fakes3 control plane answers "
                               f"loopback clients, or requests with the {TOKEN_HEADER} header."})
        path = request.raw_path.rstrip("/")
        parts = path.split("/")[2:]  # after "/_fakes3"
        method = request.method
        try:
            return self._route(method, parts, request)
        except RuleError as exc:
            return _json(400, {"error": "InvalidRule", "field": exc.field, "message": str(exc)})
        except ValueError as exc:
            return _json(400, {"error": "InvalidRequest", "message": str(exc)})

    def _route(self, method: str, parts: list[str], request: HttpRequest) -> Response:
        faults = self.faults
        match (method, parts):
            case ("GET" | "HEAD", ["health"]):
                return _json(200, {"status": "ok", "services": self.services, "version": self.version})
            case ("POST", ["reset"]):
                self.reset()
                return _json(200, {"reset": True})
            case ("GET", ["faults"]):
                return _json(200, {"rules": [r.to_json() for r in faults.rules()]})
            case ("POST", ["faults"]):
                added = faults.add_json(_read_json(request))
                return _json(201, {"rules": [r.to_json() for r in added]})
            case ("DELETE", ["faults"]):
                faults.clear()
                return _json(200, {"removed": "all"})
            case ("DELETE", ["faults", rule_id]):
                if faults.remove(rule_id):
                    return _json(200, {"removed": rule_id})
                return _json(404, {"error": "NoSuchRule", "message": f"No fault rule {rule_id!r}."})
            case ("GET", ["journal"]):
                body = faults.journal.jsonl().encode()
                return 200, [("Content-Type", "application/x-ndjson"),
                             ("Content-Length", str(len(body)))], [body]
            case ("DELETE", ["journal"]):
                faults.journal.clear()
                return _json(200, {"cleared": True})
            case ("GET", ["holds", name]):
                return _json(200, faults.holds[name].to_json())
            case ("POST", ["holds", name, "wait"]):
                hold = faults.holds[name]
                count = int(request.query.get("count", "1"))
                timeout = min(float(request.query.get("timeout", "30")), 300.0)
                try:
                    hold.wait_arrived(count, timeout)
                except HoldTimeout as exc:
                    return _json(408, {"error": "HoldTimeout", "message": str(exc), **hold.to_json()})
                return _json(200, hold.to_json())
            case ("POST", ["holds", name, "release"]):
                faults.holds[name].release()
                return _json(200, faults.holds[name].to_json())
            case ("POST", ["holds", name, "release-one"]):
                faults.holds[name].release_one()
                return _json(200, faults.holds[name].to_json())
            case ("POST", ["dynamodb", "expire-ttl"]) if self.expire_ttl is not None:
                return _json(200, {"deleted": self.expire_ttl()})
            case ("POST", ["s3", "apply-lifecycle"]) if self.apply_lifecycle is not None:
                return _json(200, dict(self.apply_lifecycle()))
        return _json(404, {"error": "NotFound", "message": f"No control endpoint {method} "
                           f"/_fakes3/{'/'.join(parts)}; see GET /_fakes3/health and the README."})

    def _allowed(self, request: HttpRequest) -> bool:
        sent = request.headers.get(TOKEN_HEADER)
        if self.token and sent is not None and hmac.compare_digest(sent, self.token):
            return True
        host = request.remote_addr.rsplit(":", 1)[0].strip("[]")
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == ""  # no socket at all: an in-process call


def _read_json(request: HttpRequest) -> Any:
    data = request.stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise ValueError(f"the request body may be at most {MAX_BODY} bytes")
    try:
        return json.loads(data or b"null")
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None


def _json(status: int, payload: dict[str, Any]) -> Response:
    body = json.dumps(payload).encode()
    return status, [JSON, ("Content-Length", str(len(body)))], [body]
