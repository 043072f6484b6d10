"""Hatchet's benchmark harness: trigger-to-start latency, throughput and cost, beside Celery.

Run it with `python -m bench --help` (or `make bench`); bench/README.md says what each
figure means and how each side is configured.
"""
