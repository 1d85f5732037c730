"""Abrasio's benchmarks: ``python -m benchmarks [--quick]``. See benchmarks/README.md."""
