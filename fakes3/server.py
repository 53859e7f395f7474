"""Compose fakes3's WSGI applications and serve them: in-process (``FakeAWS``) or forever (the CLI).

Two ports: one for S3 and DynamoDB, one for the credential endpoints (EC2 instance
metadata and ECS container credentials), each an ordinary ``fakes3.http_server.HttpServer``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

from fakes3 import __version__
from fakes3.auth import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_SECRET_KEY,
    AuthMode,
    Credential,
    CredentialStore,
    Verifier,
)
from fakes3.control import ControlPlane
from fakes3.dynamodb.service import DynamoDBService
from fakes3.faults import FaultController, Journal
from fakes3.faults.dynamodb_effects import DynamoDBEffects
from fakes3.faults.s3_effects import S3Effects
from fakes3.faults.wiring import (
    describe_dynamodb_call,
    describe_s3_call,
    dynamodb_error,
    endpoint_faults,
    s3_error,
)
from fakes3.gateway import Gateway
from fakes3.http_server import HttpServer
from fakes3.imds import (
    ContainerCredentialsService,
    CredentialEndpoints,
    MetadataService,
    imds_env,
    vendor_from_store,
)
from fakes3.protocol.json_http import JsonService
from fakes3.protocol.s3_http import S3Protocol
from fakes3.s3.access import AccessControl
from fakes3.s3.cors import BucketCors
from fakes3.s3.post_upload import BrowserPostUploads
from fakes3.s3.service import S3Service

log = logging.getLogger("fakes3")

__all__ = ["DEFAULT_ACCESS_KEY", "DEFAULT_REGION", "DEFAULT_SECRET_KEY", "FakeAWS"]

DEFAULT_REGION = "us-east-1"


class FakeAWS:
    """A fake AWS endpoint in this process: ``with FakeAWS() as aws: aws.client("s3")...``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = DEFAULT_REGION,
        virtual_host_domains: Iterable[str] = ("localhost",),
        spill_threshold: int = 1 << 20,
        max_put_size: int = 5 * 1024**3,
        min_part_size: int = 5 * 1024**2,
        threads: int = 24,
        auth: AuthMode = "strict",
        credentials: Iterable[Credential] = (),
        clock: Callable[[], float] = time.time,
        imds: bool = True,
        imds_port: int = 0,
        imds_v2_only: bool = False,
        imds_credential_lifetime: float = 6 * 3600,
        control_token: str | None = None,
        profile: str = "aws",
        journal_size: int = 100_000,
        dynamodb_table_delay: float = 0.0,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """``auth``: "strict" verifies every signed request, "open" accepts any key and signature.
        ``credentials``: keys besides the default test/test (account 000000000000).
        ``clock``: the server's time in epoch seconds (signature expiry, skew, LastModified).
        ``imds``: also serve EC2 instance metadata and ECS container credentials on ``imds_port``;
        the temporary credentials they vend (``imds_credential_lifetime`` seconds) are accepted
        by S3 until they expire.
        ``control_token``: lets non-loopback clients use the ``/_fakes3/`` control plane.
        ``profile``: a named bundle of faults (``aws``, ``aws-2019``, ``s3-compatible-weak``);
        ``journal_size``: how many requests the journal keeps.
        ``dynamodb_table_delay``: seconds of ``clock`` a DynamoDB table stays CREATING (UPDATING,
        DELETING) before it is ACTIVE (gone); 0, the default, makes every change immediate.
        ``data_dir``: keep S3's buckets, objects, versions and uploads in progress, and DynamoDB's
        tables and items, there across restarts (crash-safe; see fakes3.s3.persistence and
        fakes3.dynamodb.persistence); None, the default, keeps everything in memory and temporary
        files, removed by ``stop``. Raises fakes3.s3.persistence.DataDirError
        if the directory cannot be used (another server holds it, say)."""
        self.host = host
        self.clock = clock
        self.credential_store = CredentialStore(credentials, clock=clock)
        self.verifier = Verifier(self.credential_store, mode=auth, clock=clock)
        self.region = region
        self.data_dir = data_dir
        self._blob_dir = tempfile.mkdtemp(prefix="fakes3-blobs-") if data_dir is None else None
        self.s3 = S3Service(region=region, spill_threshold=spill_threshold,
                            blob_dir=self._blob_dir, max_put_size=max_put_size,
                            min_part_size=min_part_size, data_dir=data_dir, clock=clock)
        try:
            self.dynamodb = DynamoDBService(region=region, account_id=DEFAULT_ACCOUNT_ID, clock=clock,
                                            table_delay=dynamodb_table_delay, data_dir=data_dir)
        except BaseException:
            self.s3.close()  # let go of the data dir S3 holds
            raise
        self.faults = FaultController(profile=profile, journal_size=journal_size)
        # Strict auth: bucket owners, ACLs and bucket policies decide who may do what (open: anyone).
        access = AccessControl(self.s3) if auth == "strict" else None
        s3_protocol = S3Protocol(self.s3.handle, virtual_host_domains, access=access,
                                 browser_post=BrowserPostUploads(self.verifier, access),
                                 cors=BucketCors(self.s3))
        s3_protocol.handler = self.faults.seam("s3", self.s3.handle, describe_s3_call, s3_error,
                                               s3_protocol.success_status)
        self.s3.fault_hook = self.faults.model_hook
        self.faults.effects["s3"] = S3Effects(self.s3)
        dynamodb_handler = self.faults.seam("dynamodb", self.dynamodb.handle, describe_dynamodb_call,
                                            dynamodb_error, lambda operation, result: 200)
        self.dynamodb.db.fault_hook = lambda operation, table, key: self.faults.between()
        self.faults.effects["dynamodb"] = DynamoDBEffects(self.dynamodb)
        self.app = Gateway(
            s3_protocol,
            ControlPlane(["s3", "dynamodb"], self.reset, __version__, self.faults, control_token,
                         expire_ttl=self.dynamodb.expire_ttl,
                         apply_lifecycle=self.s3.apply_lifecycle),
            region,
            self.verifier,
            json_services=[JsonService("dynamodb", "DynamoDB_20120810", dynamodb_handler,
                                        self.dynamodb.operations)],
        )
        self.http = HttpServer(self.app, host=host, port=port, threads=threads)
        vendor = vendor_from_store(self.credential_store, DEFAULT_ACCOUNT_ID, imds_credential_lifetime)
        self.imds = MetadataService(vendor, v2_only=imds_v2_only, region=region,
                                    account_id=DEFAULT_ACCOUNT_ID, clock=clock)
        self.ecs = ContainerCredentialsService(vendor, region=region, account_id=DEFAULT_ACCOUNT_ID,
                                               clock=clock)
        endpoint_faults(self.faults, "imds", self.imds, self.credential_store)
        endpoint_faults(self.faults, "ecs", self.ecs, self.credential_store)
        self.metadata_http = (HttpServer(CredentialEndpoints(self.imds, self.ecs), host=host,
                                         port=imds_port, server_name="EC2ws") if imds else None)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeAWS:
        self.http.start()
        if self.metadata_http is not None:
            self.metadata_http.start()
        if self.verifier.mode == "open":
            log.warning("fakes3: --auth open: any access key and any signature is accepted")
        return self

    def stop(self) -> None:
        if self.metadata_http is not None:
            self.metadata_http.stop()
        self.http.stop()
        self.s3.close()
        self.dynamodb.close()
        if self._blob_dir is not None:
            shutil.rmtree(self._blob_dir, ignore_errors=True)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI)."""
        self.start()
        try:
            self.http.wait()
        finally:
            self.stop()

    def __enter__(self) -> FakeAWS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if not self.http.running:
            raise RuntimeError("FakeAWS is not running: call start() or use it as a context manager")
        return self.http.port

    @property
    def endpoint_url(self) -> str:
        self.port  # noqa: B018 - raises a clear error when not running
        return self.http.url

    @property
    def imds_url(self) -> str:
        """The EC2 instance metadata endpoint (ECS container credentials share its port)."""
        if self.metadata_http is None:
            raise RuntimeError("FakeAWS(imds=False) serves no instance metadata")
        return self.metadata_http.url

    @property
    def imds_env(self) -> dict[str, str]:
        """Variables that send an SDK's instance-metadata credential provider here."""
        return imds_env(self.imds_url)

    @property
    def ecs_env(self) -> dict[str, str]:
        """AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN for this fake."""
        return self.ecs.env(self.imds_url)

    @property
    def credentials(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client``/``Session``: the default key pair."""
        return {"aws_access_key_id": DEFAULT_ACCESS_KEY,
                "aws_secret_access_key": DEFAULT_SECRET_KEY}

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point any AWS SDK or CLI at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def client(self, service: str = "s3", **kwargs: Any) -> Any:
        """A boto3 client already pointed at this endpoint."""
        import boto3  # deferred: importing boto3 costs more than starting the server

        options: dict[str, Any] = {"endpoint_url": self.endpoint_url, "region_name": self.region,
                                   **self.credentials}
        options.update(kwargs)
        return boto3.session.Session().client(service, **options)

    def patch(self, endpoint_url: str | None = None) -> Any:
        """Serve this process's boto3/botocore clients without a socket, through the same
        protocol, auth and fault seam: ``with aws.patch() as fake: fake.client("s3")`` (the fake
        need not be started). See ``fakes3.inprocess``."""
        from fakes3.inprocess import InProcess

        return InProcess(self, endpoint_url)

    @property
    def journal(self) -> Journal:
        """Every request: ``journal.entries()``, or ``journal.jsonl()`` (also GET /_fakes3/journal)."""
        return self.faults.journal

    def reset(self) -> None:
        """Forget every bucket, object and table, every fault rule but the profile's, the journal, and
        vend new instance credentials (nothing restarts)."""
        self.faults.clear()
        self.faults.journal.clear()
        self.s3.reset()
        self.dynamodb.reset()
        self.imds.reset()
        self.ecs.reset()
