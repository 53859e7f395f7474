"""The S3 suites (tests/s3_unit, tests/test_s3_*.py) again, with a data dir, and a restart checked.

Each selected module runs in a child pytest with this file as a plugin (``-p``): every
``S3Service`` a test makes gets a data dir instead of a blob dir, and when the test closes it, the
data dir is opened again and the model read back must equal the one closed: every bucket with its
settings, every version and delete marker with every field and its body, every upload in progress
with its parts, and the completions a retried CompleteMultipartUpload replays. A server that is
reset between tests instead (the pytest plugin's session server) is checked before each reset, on
a backup of its data dir taken while it serves.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from fakes3.s3 import S3Service
from fakes3.s3.multipart_state import Uploads
from fakes3.s3.persistence_codec import STRUCTURAL, UPLOAD_RUNTIME

ROOT = Path(__file__).resolve().parent.parent
_ACTIVE = "FAKES3_TEST_PERSIST_EVERY_SERVICE"
# Every module of the S3 semantics suite but test_blobs.py, which is about in-memory bodies and the
# private temporary directory (a data dir writes every body to a file and keeps it on close), and
# the S3 tests through boto3 (their session-scoped server persists too, read back at every reset).
MODULES = sorted(str(p.relative_to(ROOT / "tests"))
                 for p in [*(ROOT / "tests" / "s3_unit").glob("test_*.py"),
                           *(ROOT / "tests").glob("test_s3_*.py")]
                 if p.name != "test_blobs.py")


# -- the plugin (active in the child pytest only) ---------------------------------------------------


def _body(blob: Any) -> tuple[Any, ...]:
    return (blob.size, blob.etag, blob.read(), blob.part_count)


def _version(version: Any) -> dict[str, Any]:
    out = {f.name: getattr(version, f.name) for f in dataclasses.fields(version) if f.name != "blob"}
    out["body"] = _body(version.blob)
    return out


def _uploads(registry: Uploads | None) -> dict[str, Any]:
    if registry is None:
        return {}
    with registry.lock:
        uploads = [registry.lookup(upload_id) for _, upload_id in registry.order]
        completed = dict(registry._completed)
    out: dict[str, Any] = {"completed": completed} if completed else {}  # empty: as no registry
    for upload in uploads:
        fields = {f.name: getattr(upload, f.name) for f in dataclasses.fields(upload)
                  if f.name not in UPLOAD_RUNTIME}
        fields["parts"] = {n: (p.last_modified, dict(p.checksums), _body(p.blob))
                           for n, p in sorted(upload.parts.items())}
        out[upload.upload_id] = fields
    return out


def dump(svc: S3Service) -> dict[str, Any]:
    """Everything a restart must keep, as plain values."""
    out: dict[str, Any] = {}
    for bucket in sorted(svc.store.all(), key=lambda b: b.name):
        with bucket.lock:
            settings = {k: v for k, v in vars(bucket).items() if k not in STRUCTURAL}
            keys = list(bucket.all_keys)
        versions = {key: [_version(v) for v in bucket.history(key)] for key in keys}
        registry = bucket.uploads
        out[bucket.name] = {"settings": settings, "versions": versions,
                            "uploads": _uploads(registry if isinstance(registry, Uploads) else None)}
    return out


def _read_back(options: dict[str, Any], data_dir: str) -> dict[str, Any]:
    """What a server started on ``data_dir`` sees."""
    again = S3Service(**{**options, "data_dir": data_dir})
    again._test_read_back = True  # type: ignore[attr-defined]
    try:
        return dump(again)
    finally:
        again.close()


def _check(before: dict[str, Any], after: dict[str, Any], when: str) -> None:
    assert after == before, f"the data dir read back {when} differs from the model"


class _EveryServicePersists:
    """Patches S3Service for the whole child session (a session-scoped FakeAWS included)."""

    def __init__(self) -> None:
        self.base = tempfile.mkdtemp(prefix="fakes3-test-data-")
        self.count = 0

    def install(self) -> None:
        init, close, reset = S3Service.__init__, S3Service.close, S3Service.reset
        plugin = self

        def persistent_init(self: S3Service, **options: Any) -> None:
            if options.get("data_dir") is None:
                options.pop("blob_dir", None)
                options["data_dir"] = plugin.new_dir()
            self._test_options = options  # type: ignore[attr-defined]
            init(self, **options)

        def close_and_read_back(self: S3Service) -> None:
            if self.persistence is None or getattr(self, "_test_read_back", False):
                close(self)
                return
            before = dump(self)
            close(self)
            options = self._test_options  # type: ignore[attr-defined]
            _check(before, _read_back(options, options["data_dir"]), "after close")

        def read_back_then_reset(self: S3Service) -> None:
            # Between tests (the pytest plugin's fakes3 fixture resets): a backup read back.
            if self.persistence is not None and not getattr(self, "_test_read_back", False):
                copy = plugin.new_dir()
                self.persistence.backup(copy)
                before = dump(self)
                _check(before, _read_back(self._test_options, copy),  # type: ignore[attr-defined]
                       "before reset")
                shutil.rmtree(copy)
            reset(self)

        S3Service.__init__ = persistent_init  # type: ignore[method-assign]
        S3Service.close = close_and_read_back  # type: ignore[method-assign]
        S3Service.reset = read_back_then_reset  # type: ignore[method-assign]

    def new_dir(self) -> str:
        self.count += 1
        return os.path.join(self.base, f"data-{self.count}")

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


_installed: list[_EveryServicePersists] = []


def pytest_configure(config: pytest.Config) -> None:
    """Only as a plugin (``-p test_persistence_roundtrip``) and with FAKES3_TEST_PERSIST... set."""
    if os.environ.get(_ACTIVE) == "1" and not _installed:
        plugin = _EveryServicePersists()
        plugin.install()
        _installed.append(plugin)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _installed:
        _installed.pop().remove()


# -- the test (in this run) -------------------------------------------------------------------------


@pytest.mark.parametrize("module", MODULES)
def test_s3_semantics_hold_with_a_data_dir_and_survive_a_restart(module: str, tmp_path: Path) -> None:
    env = {**os.environ, _ACTIVE: "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "test_persistence_roundtrip", "-p", "no:xdist",
         "--basetemp", str(tmp_path / "t"), str(ROOT / "tests" / module)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
