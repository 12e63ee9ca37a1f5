"""Benchmark harness: ``python -m qzopt.bench`` / ``qzopt bench`` (see docs/performance.md).

Suites (:mod:`~qzopt.bench.suites`), one process per run (:mod:`~qzopt.bench.runner`), the
peers (:mod:`~qzopt.bench.peers`), a generated Qianzhong-like instance
(:mod:`~qzopt.bench.scale`) and the tables (:mod:`~qzopt.bench.report`).
"""
