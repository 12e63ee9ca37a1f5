"""The generated township instance (``qzopt.bench.scale``, 990 points x 160 sites x 3 sizes) and
others of its kind with other seeds, solved by ``qzopt.solve`` with a 120 s limit, in this
process (docs/performance.md item 35).

Not part of the package and not run by the tests.  Prints, per seed: status, plan, bound and
gap, the seconds taken and the presolve's and the polish's notes.  To compare with another
checkout, run it there (``PYTHONPATH=/tmp/base python docs/experiments/township_polish.py``):

    python docs/experiments/township_polish.py [SEED ...]     # default: 2017, the benchmark's
"""

from __future__ import annotations

import sys
import time

import qzopt
from qzopt.bench.scale import qianzhong_like


def main(seeds: list[int]) -> None:
    for seed in seeds:
        t0 = time.perf_counter()
        res = qzopt.solve(qianzhong_like("township", seed), time_limit=120, isolate=False)
        print(f"seed {seed}: {res.status}, plan {res.objective:,.0f}, bound {res.bound:,.0f}, gap {res.gap:.3%}, "
              f"{time.perf_counter() - t0:.1f} s ({qzopt.__file__})")
        for key, note in res.extra.get("notes", {}).items():
            print(f"  {key}: {note}")


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [2017])
