"""Authentication: accounts and keys, SigV4 verification (header, presigned query, aws-chunked).

- ``Credential`` / ``CredentialStore``: the keys the fake knows; ``issue_temporary`` vends
  session credentials at run time.
- ``Verifier``: checks a request's signature (``strict``) or waves it through (``open``) and
  names the account it acts as.
- ``errors.JSON_SERVICE_ERRORS``: the same failures as a JSON protocol service reports them.
"""

from __future__ import annotations

from fakes3.auth.anonymous import anonymous_may_proceed
from fakes3.auth.credentials import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_SECRET_KEY,
    Credential,
    CredentialStore,
    credentials_from_json,
    credentials_from_text,
)
from fakes3.auth.errors import AuthError
from fakes3.auth.verifier import ANONYMOUS, MODES, Authentication, AuthMode, Principal, Verifier

__all__ = [
    "ANONYMOUS",
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_SECRET_KEY",
    "MODES",
    "AuthError",
    "AuthMode",
    "Authentication",
    "Credential",
    "CredentialStore",
    "Principal",
    "Verifier",
    "anonymous_may_proceed",
    "credentials_from_json",
    "credentials_from_text",
]
