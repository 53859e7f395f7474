"""The container credentials endpoint (ECS task roles; the full-URI form EKS Pod Identity uses).

Two ways in, both GET (botocore's ``ContainerProvider`` / ``ContainerMetadataFetcher``):

- **relative URI** — ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/<id>``, which SDKs
  resolve against 169.254.170.2. As the ECS agent does: ``/v2/credentials/<id>`` (and the older
  ``/v1/credentials?id=<id>``); no id is 400 ``NoIdInRequest``, an unknown id 400
  ``InvalidIdInRequest``; no Authorization header is required.
- **full URI** — ``AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/v1/credentials`` with
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN``, which SDKs send verbatim as the ``Authorization`` header.
  A missing header is 401, a wrong one 403 (botocore treats any non-200 alike: three attempts,
  then ``CredentialRetrievalError``).

The answer is the ECS agent's JSON: ``RoleArn, AccessKeyId, SecretAccessKey, Token, Expiration``
(``2024-01-01T00:00:00Z``), ``application/json``; errors are ``{"code": ..., "message": ...}``.
Credentials come from a vendor and rotate by the same rule as IMDS (``fakes3.imds.credentials``).
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid

from fakes3.imds.credentials import DEFAULT_REFRESH_MARGIN, Clock, CredentialCache, Vendor, format_time
from fakes3.imds.http import Endpoint, Request, Response, json_body, with_allow
from fakes3.imds.metadata import partition_of

RELATIVE_PREFIX = "/v2/credentials"
FULL_URI_PATH = "/v1/credentials"


def is_container_path(path: str) -> bool:
    """Whether ``path`` is the container credentials endpoint's (any other is IMDS's)."""
    return path in (FULL_URI_PATH, RELATIVE_PREFIX) or path.startswith(RELATIVE_PREFIX + "/")


def _error(status: int, code: str, message: str) -> Response:
    return json_body(status, {"code": code, "message": message})


class ContainerCredentialsService(Endpoint):
    """The container credentials endpoint for one task role, as a WSGI app (the object itself)."""

    log_name = "ecs"

    def __init__(
        self,
        vendor: Vendor,
        *,
        role_name: str = "fakes3-task-role",
        account_id: str = "000000000000",
        region: str = "us-east-1",
        credentials_id: str | None = None,
        authorization_token: str | None = None,
        clock: Clock = time.time,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        super().__init__()
        self.role_name = role_name
        self.account_id = account_id
        self.partition, _ = partition_of(region)
        self.credentials_id = credentials_id or str(uuid.uuid4())
        self.authorization_token = authorization_token or secrets.token_urlsafe(32)
        self.credentials = CredentialCache(vendor, clock=clock, refresh_margin=refresh_margin)

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.role_name}"

    @property
    def relative_uri(self) -> str:
        """The value for ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``."""
        return f"{RELATIVE_PREFIX}/{self.credentials_id}"

    def env(self, base_url: str) -> dict[str, str]:
        """Variables that point an SDK at this endpoint served at ``base_url`` (full-URI form)."""
        return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": base_url.rstrip("/") + FULL_URI_PATH,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.authorization_token}

    def reset(self) -> None:
        self.credentials.rotate()

    # -- routing --------------------------------------------------------------------------------

    def _internal_error(self) -> Response:
        return _error(500, "InternalServerError", "Internal server error")

    def _route(self, request: Request) -> Response:
        path = request.path
        if not is_container_path(path):
            return _error(404, "NotFound", f"No such path: {path}")
        if request.method not in ("GET", "HEAD"):
            return with_allow(_error(405, "MethodNotAllowed", "Only GET is supported"), "GET, HEAD")
        if path == FULL_URI_PATH and "id" not in request.query:
            return self._full_uri(request)
        if path == FULL_URI_PATH:
            return self._relative(request.query["id"][0], version=1)
        return self._relative(path[len(RELATIVE_PREFIX) + 1:], version=2)

    def _relative(self, credentials_id: str, *, version: int) -> Response:
        prefix = f"CredentialsV{version}Request: "
        if not credentials_id:
            return _error(400, "NoIdInRequest", prefix + "No Credential ID in the request")
        if credentials_id != self.credentials_id:
            return _error(400, "InvalidIdInRequest", prefix + "Credentials not found")
        return self._document()

    def _full_uri(self, request: Request) -> Response:
        presented = request.headers.get("authorization")
        if not presented:
            return _error(401, "Unauthorized", "Authorization header is missing: send "
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header")
        if not hmac.compare_digest(presented.encode(), self.authorization_token.encode()):
            return _error(403, "AccessDenied", "Authorization token does not match "
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN")
        return self._document()

    def _document(self) -> Response:
        credential = self.credentials.current().credential
        return json_body(200, {
            "RoleArn": self.role_arn,
            "AccessKeyId": credential.access_key,
            "SecretAccessKey": credential.secret_key,
            "Token": credential.session_token,
            "Expiration": format_time(credential.expires_at),
        })
