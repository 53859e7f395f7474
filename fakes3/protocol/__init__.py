"""Wire formats, driven by botocore's own service models: no hand-written XML per operation."""
