"""botocore's service models, loaded once per process and shared (they are read-only).

Loading one is most of a fake's start-up: S3's model is 1.4 MB of JSON. So the file is parsed
into plain dicts (botocore's own loader builds an OrderedDict per JSON object, a third slower).
The JSON services (DynamoDB) ask for theirs on their first request (``fakes3.protocol.json_http``).
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from functools import cache
from typing import Any

import botocore.exceptions
import botocore.loaders
import botocore.model

# The API versions fakes3 speaks. Naming them spares the Loader its scan of every service's
# directory for the latest version (thousands of stat calls, a third of start-up).
API_VERSIONS = {"s3": "2006-03-01", "dynamodb": "2012-08-10"}

Data = dict[str, Any]


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.Loader()


def _model_file(name: str, version: str) -> str | None:
    """The ``service-2`` file of ``name``/``version`` that ``Loader.load_data`` would read: the first
    of botocore's data paths that has it, ``.json`` before ``.json.gz``."""
    for base in _loader().search_paths:
        path = os.path.join(base, name, version, "service-2")
        for candidate in (path + ".json", path + ".json.gz"):
            if os.path.isfile(candidate):
                return candidate
    return None


def _read(path: str) -> bytes:
    """The file's JSON text (gunzipped)."""
    with open(path, "rb") as f:
        data = f.read()
    return zlib.decompress(data, wbits=31) if path.endswith(".gz") else data


def _parse(path: str) -> Data:
    data = json.loads(_read(path))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a service model")
    return data


@cache
def service_model(name: str) -> botocore.model.ServiceModel:
    version = API_VERSIONS.get(name)
    path = _model_file(name, version) if version else None
    if path is not None:
        return botocore.model.ServiceModel(_parse(path), name)
    loader = _loader()  # another botocore layout: let it find the model itself
    data = None
    with contextlib.suppress(botocore.exceptions.DataNotFoundError):
        data = loader.load_data(f"{name}/{version}/service-2") if version else None
    if data is None:
        data = loader.load_service_model(name, "service-2")
    return botocore.model.ServiceModel(data, name)
