"""HiGHS with its default options against HiGHS with some option changed, on the models of the
shipped Qianzhong scenarios (without their fee rules), as ``qzopt.solve`` builds them
(docs/performance.md item 34).

Not part of the package and not run by the tests.  Each model is built once; each variant
solves it RUNS times in this process to a zero gap (``mip_rel_gap`` 0, ``mip_abs_gap`` 1e-9, as
qzopt asks); the script prints the median seconds, the runs and the objectives found:

    python docs/experiments/highs_options.py [RUNS] [SCENARIO ...]
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time

import qzopt
from qzopt.models import facility

SCENARIOS = ["scenarios/qianzhong-msw.yaml", "scenarios/qianzhong-coldchain.yaml", "scenarios/qianzhong-wte.yaml",
             "scenarios/qianzhong-sewage.yaml"]
VARIANTS: dict[str, dict] = {"default": {}, "presolve off": {"presolve": "off"}}


def main(runs: int = 3, paths: list[str] = SCENARIOS) -> None:
    for path in paths:
        sc = qzopt.load_scenario(path)
        if sc.fees is not None and sc.fees.active:
            sc = dataclasses.replace(sc, fees=None)
        form = facility.build(sc).model.to_matrix()
        for name, options in VARIANTS.items():
            seconds, objectives = [], set()
            for _ in range(runs):
                h = form.to_highspy()
                for key, value in {"output_flag": False, "mip_rel_gap": 0.0, "mip_abs_gap": 1e-9, **options}.items():
                    h.setOptionValue(key, value)
                t = time.perf_counter()
                h.run()
                seconds.append(time.perf_counter() - t)
                objectives.add(round(h.getInfo().objective_function_value + form.offset, 2))
            print(f"{path}: {name}: {statistics.median(seconds):.2f} s (median; runs "
                  f"{[round(s, 2) for s in seconds]}); objective {sorted(objectives)}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 3
    main(runs, args or SCENARIOS)
