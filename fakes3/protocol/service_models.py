"""botocore's service models, loaded once per process and shared (they are read-only)."""

from __future__ import annotations

from functools import cache

import botocore.exceptions
import botocore.loaders
import botocore.model

# The API versions fakes3 speaks. Naming them spares the Loader its scan of every service's
# directory for the latest version (thousands of stat calls, a third of start-up).
API_VERSIONS = {"s3": "2006-03-01", "dynamodb": "2012-08-10"}


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.Loader()


@cache
def service_model(name: str) -> botocore.model.ServiceModel:
    loader = _loader()
    version = API_VERSIONS.get(name)
    try:
        data = loader.load_data(f"{name}/{version}/service-2") if version else None
    except botocore.exceptions.DataNotFoundError:
        data = None
    if data is None:  # another botocore layout: let it find the model itself
        data = loader.load_service_model(name, "service-2")
    return botocore.model.ServiceModel(data, name)
