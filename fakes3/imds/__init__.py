"""EC2 instance metadata (IMDSv1/IMDSv2) and ECS container credentials, on their own port.

    from fakes3.imds import (CredentialEndpoints, MetadataServer, MetadataService,
                             ContainerCredentialsService, TemporaryCredential, imds_env)

    imds = MetadataService(vendor)              # vendor: () -> TemporaryCredential
    ecs = ContainerCredentialsService(vendor)
    with MetadataServer(CredentialEndpoints(imds, ecs)) as server:
        os.environ.update(imds_env(server.url))  # or ecs.env(server.url)

Modules: ``credentials`` (the credential type, the rotating cache and its refresh margin),
``metadata`` (IMDS), ``ecs`` (container credentials), ``tokens`` (IMDSv2 session tokens),
``http`` (request/response and the ``before_request`` fault seam), ``app`` (router and server),
``testing`` (``FakeClock``, ``SequentialVendor``, ``http_call`` for tests).
"""

from __future__ import annotations

from fakes3.imds.app import CredentialEndpoints, MetadataServer, imds_env
from fakes3.imds.credentials import (
    DEFAULT_REFRESH_MARGIN,
    CredentialCache,
    TemporaryCredential,
    Vended,
    vendor_from_store,
)
from fakes3.imds.ecs import ContainerCredentialsService
from fakes3.imds.http import FaultHook, Request, Response
from fakes3.imds.metadata import MetadataService

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "ContainerCredentialsService",
    "CredentialCache",
    "CredentialEndpoints",
    "FaultHook",
    "MetadataServer",
    "MetadataService",
    "Request",
    "Response",
    "TemporaryCredential",
    "Vended",
    "imds_env",
    "vendor_from_store",
]
