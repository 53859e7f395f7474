"""Benchmarks for fakes3 (run them as scripts; they are not part of the test suite)."""
