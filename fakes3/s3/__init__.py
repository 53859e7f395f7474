"""S3 semantics: buckets, objects, listing, copy, checksums and blob storage."""

from fakes3.s3.service import S3Service

__all__ = ["S3Service"]
