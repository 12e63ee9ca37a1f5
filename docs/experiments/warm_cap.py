"""qzopt's warm, in-process time on OR-Library cap41-cap134: the figures of docs/performance.md
item 29 (no MIP solve after the LP tree's proof).

Not part of the package and not run by the tests.  Each instance is solved RUNS times with
``qzopt.solve(..., isolate=False)`` in this process; the script prints the median milliseconds
per instance, their sum, and how many answers the presolve's LP branch and bound proved (no MIP
solve).  To compare two versions, run it from each checkout, one after the other:

    PYTHONPATH=<checkout> python docs/experiments/warm_cap.py [RUNS] [SHARED]

``SHARED``: the folder holding benchmarks/ (default ../shared).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import qzopt
import qzopt.api
from qzopt.bench import cases, suites

#: None in a checkout from before item 29 (every answer then comes from a back end)
PROVED_BY_TREE = getattr(qzopt.api, "PROVED_BY_TREE", None)


def main(runs: int = 15, shared: Path = Path("../shared")) -> None:
    medians, proved = {}, 0
    for inst in suites.suite("orlib-cap-small", shared=shared):
        sc = cases.scenario(inst)
        seconds = []
        for _ in range(runs):
            t0 = time.perf_counter()
            res = qzopt.solve(sc, time_limit=300, gap=0, isolate=False, explain=False)
            seconds.append(time.perf_counter() - t0)
        assert res.status == "optimal" and res.gap == 0.0, (inst.name, res.status)
        medians[inst.name] = 1e3 * statistics.median(seconds)
        proved += res.termination == PROVED_BY_TREE
    for name, ms in medians.items():
        print(f"{name:8s} {ms:8.2f} ms")
    print(f"sum {sum(medians.values()):,.1f} ms over {len(medians)} instances (medians of {runs}); "
          f"{proved} proved by the LP branch and bound without a MIP solve")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15, Path(sys.argv[2]) if len(sys.argv) > 2 else Path("../shared"))
