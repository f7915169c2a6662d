"""Benchmarks: ratios measured in one run, never timed tests (see bench/register_bench.py)."""
