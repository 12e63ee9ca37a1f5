"""CP-SAT's interleaved search against its default parallel search: time and repeatability.

Not part of the package and not run by the tests; the record of the figures in docs/solvers.md
("Reproducibility").  Seeded single-sourcing CFLPs (the generator of tests/test_backends.py),
each solved RUNS times both ways, one after the other, in this process:

    python docs/experiments/sat_interleave.py [RUNS]

prints per instance the median seconds of each search, the ratio interleaved / default and how
many different plans the runs gave.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from test_backends import _single_sourcing_cflp  # noqa: E402

from qzopt.solvers.base import SolveOptions  # noqa: E402
from qzopt.solvers.ortools import OrtoolsSatBackend  # noqa: E402


class DefaultSearch(OrtoolsSatBackend):
    """CP-SAT as qzopt ran it before: the default (non-deterministic) parallel search."""

    def parameters(self, options: SolveOptions) -> str:
        return super().parameters(options).replace(" interleave_search: true", "")


def main(runs: int) -> None:
    print(f"{'instance':<18} {'gap':>5} {'default s':>10} {'interleaved s':>14} {'ratio':>6} {'plans d/i':>10}")
    for points, sites, gap in ((60, 12, 0.02), (80, 15, 0.05), (120, 25, 0.02)):
        model = _single_sourcing_cflp(points, sites, seed=3)
        times: dict[str, list[float]] = {"d": [], "i": []}
        plans: dict[str, set[bytes]] = {"d": set(), "i": set()}
        for _ in range(runs):
            for key, backend in (("d", DefaultSearch()), ("i", OrtoolsSatBackend())):
                t0 = time.perf_counter()
                raw = backend.solve(model, SolveOptions(gap=gap, time_limit=120))
                times[key].append(time.perf_counter() - t0)
                plans[key].add(np.round(raw.x).tobytes())
        d, i = statistics.median(times["d"]), statistics.median(times["i"])
        print(f"{f'{points} x {sites}':<18} {gap:>5.2f} {d:>10.2f} {i:>14.2f} {i / d:>6.1f} "
              f"{len(plans['d']):>4} / {len(plans['i'])}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
