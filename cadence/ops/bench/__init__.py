"""Cadence's benchmarks and synthetic-data generators, apart from the product apps they measure.

The management commands in ``cadence/ops/management/commands/`` are thin wrappers over these
modules (``docs/benchmarks.md``):

- ``scheduler`` (``bench_scheduler``), on the plans of ``scheduler_data``; ``pages``
  (``bench_pages``) on the same data;
- ``outbox`` (``bench_outbox``, and its workload for ``seed_outbox``);
- ``analytics`` (``bench_analytics``), on the organisation history of ``synthetic``;
- ``analysis`` (``bench_analysis``), on the planted-effects history of ``history``
  (``generate_history``);
- ``common``: what they share (memory measurement, a settled database, bulk inserts, clearing
  generated rows, the commands' shared options).
"""
