"""The EC2 instance metadata service (IMDSv1 and IMDSv2) as a WSGI application.

What it follows (EC2 user guide, "Use the Instance Metadata Service"; botocore's
``InstanceMetadataFetcher``; AWS's own ``amazon-ec2-metadata-mock``):

- ``PUT /latest/api/token`` with ``X-aws-ec2-metadata-token-ttl-seconds`` between 1 and 21600
  answers a session token (text/plain) and echoes the TTL header. A missing or out-of-range TTL is
  400; a token PUT carrying ``X-Forwarded-For`` is 403 (IMDSv2 issues no token through a proxy);
  any other method on the token path is 405.
- The token headers mark a request as IMDSv2: a request carrying ``X-aws-ec2-metadata-token``
  must carry a valid, unexpired token, or it is 401 — also when IMDSv1 is allowed. Without the
  header it is an IMDSv1 request: served by default, 401 with ``v2_only=True`` ("HttpTokens:
  required").
- IMDSv1 and IMDSv2 callers get *different* role credentials (EC2's "IMDSv1 role credentials" and
  "IMDSv2 role credentials"), each set vended and rotated on its own.
- Listings are newline-separated, subdirectories with a trailing ``/`` (none at the two top levels,
  ``/`` and ``/latest/``, as EC2 lists them), no trailing newline; a directory is listed with or
  without its trailing slash, and a value is served with or without one (botocore's region lookup
  asks for ``placement/availability-zone/``). Values are text/plain (JSON
  documents included), user data application/octet-stream; errors are EC2's small HTML pages.
  Unknown paths are 404; no request ever gets a traceback.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from fakes3.imds.credentials import (
    DEFAULT_REFRESH_MARGIN,
    Clock,
    CredentialCache,
    Vendor,
    format_time,
)
from fakes3.imds.http import REASONS, Endpoint, Request, Response, text, with_allow
from fakes3.imds.tokens import TokenIssuer, parse_ttl

TOKEN_PATH = "/latest/api/token"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TTL_HEADER_OUT = "X-aws-ec2-metadata-token-ttl-seconds"

# The versions EC2 lists at "/"; each serves the same tree here.
VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
            "2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12",
            "2014-02-25", "2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02",
            "2018-03-28", "2018-08-17", "2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03",
            "2021-03-23", "2021-07-15", "2022-09-24", "2024-04-11", "latest")

def _error_page(status: int) -> Response:
    title = f"{status} - {REASONS.get(status, 'Error')}"
    body = ('<?xml version="1.0" encoding="iso-8859-1"?>\n'
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
            '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
            f" <head>\n  <title>{title}</title>\n </head>\n"
            f" <body>\n  <h1>{title}</h1>\n </body>\n</html>\n")
    return text(status, body, "text/html")


def _document(fields: Mapping[str, Any]) -> str:
    """JSON the way IMDS writes it: two-space indent and ``"Key" : value``."""
    return json.dumps(fields, indent=2, separators=(",", " : "))


def partition_of(region: str) -> tuple[str, str]:
    """(partition, services domain) for a region name."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def _random_id(prefix: str, length: int = 17) -> str:
    return prefix + secrets.token_hex(length)[:length]


class MetadataService(Endpoint):
    """EC2 instance metadata (IMDSv1/v2) for one instance, as a WSGI app (the object itself)."""

    log_name = "imds"

    def __init__(
        self,
        vendor: Vendor,
        *,
        role_name: str | None = "fakes3-role",
        v2_only: bool = False,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        instance_id: str | None = None,
        instance_type: str = "m5.large",
        ami_id: str = "ami-0f5e3c0a1b2c3d4e5",
        local_ipv4: str = "10.0.0.10",
        mac: str = "0e:a1:b2:c3:d4:e5",
        user_data: bytes | None = None,
        clock: Clock = time.time,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        super().__init__()
        self.role_name = role_name
        self.v2_only = v2_only
        self.region = region
        self.account_id = account_id
        self.instance_id = instance_id or _random_id("i-0", 16)
        self.instance_type = instance_type
        self.ami_id = ami_id
        self.local_ipv4 = local_ipv4
        self.mac = mac
        self.user_data = user_data
        self.clock = clock
        self.partition, self.domain = partition_of(region)
        self.instance_profile_id = "AIPA" + secrets.token_hex(9).upper()[:17]
        self.launched_at = clock()
        # IMDSv1 and IMDSv2 callers get separate credentials, as on EC2.
        self.credentials = CredentialCache(vendor, clock=clock, refresh_margin=refresh_margin)
        self.v1_credentials = CredentialCache(vendor, clock=clock, refresh_margin=refresh_margin)
        self.tokens = TokenIssuer()

    def reset(self) -> None:
        """New credentials on the next request and every outstanding token revoked."""
        self.credentials.rotate()
        self.v1_credentials.rotate()
        self.tokens.revoke_all()

    # -- routing --------------------------------------------------------------------------------

    def _internal_error(self) -> Response:
        return _error_page(500)

    def _route(self, request: Request) -> Response:
        if request.path.rstrip("/") == TOKEN_PATH:
            if request.method != "PUT":
                return with_allow(_error_page(405), "PUT")
            return self._issue_token(request)
        if request.method not in ("GET", "HEAD"):
            return with_allow(_error_page(405), "GET, HEAD")
        if TOKEN_HEADER in request.headers:
            if not self.tokens.valid(request.headers[TOKEN_HEADER], self.clock()):
                return _error_page(401)
            v2 = True
        elif self.v2_only:
            return _error_page(401)
        else:
            v2 = False
        return self._lookup(request.path, v2)

    def _issue_token(self, request: Request) -> Response:
        if "x-forwarded-for" in request.headers:
            return _error_page(403)
        ttl = parse_ttl(request.headers.get(TTL_HEADER))
        if ttl is None:
            return _error_page(400)
        token = self.tokens.issue(self.clock(), ttl)
        return text(200, token, extra=[(TTL_HEADER_OUT, str(ttl))])

    def _lookup(self, path: str, v2: bool) -> Response:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return text(200, "\n".join(VERSIONS))
        if parts[0] not in VERSIONS:
            return _error_page(404)
        node: Any = self._version_root()
        for depth, part in enumerate(parts[1:], start=1):
            if not isinstance(node, Mapping) or part not in node:
                return _error_page(404)
            node = node[part]
            if node is None:  # absent (no role, no user data)
                return _error_page(404)
            if depth == 1 and part == "user-data":
                if len(parts) > 2:
                    return _error_page(404)
                return text(200, node, "application/octet-stream")
        if isinstance(node, Mapping):
            top = len(parts) == 1  # "/latest/" lists without trailing slashes
            names = [name + ("/" if isinstance(child, Mapping) and not top else "")
                     for name, child in node.items() if child is not None]
            return text(200, "\n".join(names))
        # A value is served with or without a trailing slash: botocore's region lookup asks for
        # ".../placement/availability-zone/".
        value = node(v2) if callable(node) else node
        return text(200, value)

    # -- the tree -------------------------------------------------------------------------------

    def _version_root(self) -> dict[str, Any]:
        """The tree under a version. A node is a directory (dict), a value (str or bytes; None: absent),
        or a value computed per request (called with whether the caller used IMDSv2)."""
        return {
            "dynamic": {"instance-identity": {"document": lambda v2: self._identity_document()}},
            "meta-data": self._meta_data(),
            "user-data": self.user_data,
        }

    @property
    def availability_zone(self) -> str:
        return self.region + "a"

    @property
    def local_hostname(self) -> str:
        suffix = "ec2.internal" if self.region == "us-east-1" else f"{self.region}.compute.internal"
        return f"ip-{self.local_ipv4.replace('.', '-')}.{suffix}"

    @property
    def instance_profile_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:instance-profile/{self.role_name}"

    def _meta_data(self) -> dict[str, Any]:
        hostname = self.local_hostname
        interface = {
            "device-number": "0",
            "interface-id": "eni-" + self.instance_id[2:],
            "local-hostname": hostname,
            "local-ipv4s": self.local_ipv4,
            "mac": self.mac,
            "owner-id": self.account_id,
            "security-group-ids": "sg-0fa1e53000000000a",
            "security-groups": "default",
            "subnet-id": "subnet-0fa1e53000000000a",
            "subnet-ipv4-cidr-block": "10.0.0.0/24",
            "vpc-id": "vpc-0fa1e53000000000a",
            "vpc-ipv4-cidr-block": "10.0.0.0/16",
        }
        return {
            "ami-id": self.ami_id,
            "ami-launch-index": "0",
            "ami-manifest-path": "(unknown)",
            "block-device-mapping": {"ami": "/dev/xvda", "root": "/dev/xvda"},
            "hostname": hostname,
            "iam": self._iam() if self.role_name else None,
            "instance-action": "none",
            "instance-id": self.instance_id,
            "instance-life-cycle": "on-demand",
            "instance-type": self.instance_type,
            "local-hostname": hostname,
            "local-ipv4": self.local_ipv4,
            "mac": self.mac,
            "network": {"interfaces": {"macs": {self.mac: interface}}},
            "placement": {"availability-zone": self.availability_zone, "region": self.region},
            "profile": "default-hvm",
            "reservation-id": "r-" + self.instance_id[2:],
            "security-groups": "default",
            "services": {"domain": self.domain, "partition": self.partition},
        }

    def _iam(self) -> dict[str, Any]:
        assert self.role_name is not None
        return {
            "info": lambda v2: self._iam_info(v2),
            "security-credentials": {self.role_name: lambda v2: self._role_credentials(v2)},
        }

    def _iam_info(self, v2: bool) -> str:
        vended = (self.credentials if v2 else self.v1_credentials).current()
        return _document({
            "Code": "Success",
            "LastUpdated": format_time(vended.issued_at),
            "InstanceProfileArn": self.instance_profile_arn,
            "InstanceProfileId": self.instance_profile_id,
        })

    def _role_credentials(self, v2: bool) -> str:
        vended = (self.credentials if v2 else self.v1_credentials).current()
        credential = vended.credential
        return _document({
            "Code": "Success",
            "LastUpdated": format_time(vended.issued_at),
            "Type": "AWS-HMAC",
            "AccessKeyId": credential.access_key,
            "SecretAccessKey": credential.secret_key,
            "Token": credential.session_token,
            "Expiration": format_time(credential.expires_at),
        })

    def _identity_document(self) -> str:
        return _document({
            "accountId": self.account_id,
            "architecture": "x86_64",
            "availabilityZone": self.availability_zone,
            "billingProducts": None,
            "devpayProductCodes": None,
            "marketplaceProductCodes": None,
            "imageId": self.ami_id,
            "instanceId": self.instance_id,
            "instanceType": self.instance_type,
            "kernelId": None,
            "pendingTime": format_time(self.launched_at),
            "privateIp": self.local_ipv4,
            "ramdiskId": None,
            "region": self.region,
            "version": "2017-09-30",
        })
