"""Wall time of the shipped fee scenarios with the comparison solve (the price of equalisation)
run after the fee rule's stages (as before docs/performance.md item 30) and beside them; with
``--frontier``, of ``qzopt.fees.frontier`` (default caps) with its caps solved one by one and
side by side (``qzopt.api.solve_each``, item 31).

Not part of the package and not run by the tests.  Each scenario is solved RUNS times each way,
alternating, with ``qzopt.solve(path)`` (every back end in its own worker process, the default);
"after" is the same code with ``qzopt.api.cores`` reporting one core, which is what a one-core
machine does.  The script prints the median wall seconds each way and their ratio, and checks
that both ways give the same cost, price of equalisation and open sites:

    python docs/experiments/fee_compare.py [--frontier] [RUNS] [SCENARIO ...]
"""

from __future__ import annotations

import statistics
import sys
import time

import qzopt
import qzopt.api
import qzopt.fees

SCENARIOS = ["scenarios/qianzhong-sewage.yaml", "scenarios/qianzhong-wte.yaml"]


def answer(res: qzopt.Result) -> tuple:
    fees = res.extra["fees"]
    return (res.status, round(res.objective, 2), round(fees["price_of_equalization_per_yr"], 2),
            tuple(sorted(res.open_sites["site"])))


def frontier_answer(table) -> tuple:
    return tuple(zip(table["status"], table["total_cost_per_yr"].round(2), table["fee"].round(6)))


def main(runs: int = 5, scenarios: list[str] = SCENARIOS, frontier: bool = False) -> None:
    real_cores = qzopt.api.cores
    print(f"cores: {real_cores()}; {runs} runs each way, alternating")
    for path in scenarios:
        wall: dict[str, list[float]] = {"after": [], "beside": []}
        answers = set()
        for _ in range(runs):
            for way in ("after", "beside"):
                qzopt.api.cores = (lambda: 1) if way == "after" else real_cores
                t = time.perf_counter()
                if frontier:
                    answers.add(frontier_answer(qzopt.fees.frontier(path)))
                else:
                    answers.add(answer(qzopt.solve(path)))
                wall[way].append(time.perf_counter() - t)
        qzopt.api.cores = real_cores
        after, beside = statistics.median(wall["after"]), statistics.median(wall["beside"])
        print(f"{path}: after {after:.2f} s, beside {beside:.2f} s (medians), ratio {beside / after:.3f}; "
              f"runs after {[round(w, 2) for w in wall['after']]}, beside {[round(w, 2) for w in wall['beside']]}; "
              f"{'the same answer every run' if len(answers) == 1 else f'ANSWERS DIFFER: {answers}'}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--frontier"]
    main(int(args[0]) if args else 5, args[1:] or SCENARIOS, frontier="--frontier" in sys.argv)
