"""botocore's service models, loaded once per process and shared (they are read-only)."""

from __future__ import annotations

from functools import cache

import botocore.loaders
import botocore.model


@cache
def service_model(name: str) -> botocore.model.ServiceModel:
    # The Loader alone is ~10x cheaper than a botocore Session, which matters for start-up.
    data = botocore.loaders.Loader().load_service_model(name, "service-2")
    return botocore.model.ServiceModel(data, name)
