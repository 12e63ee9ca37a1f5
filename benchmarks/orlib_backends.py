"""Solve times of the shipped OR-Library instances with each back end (medians of repeats).

    python benchmarks/orlib_backends.py [--repeats 3] [--shared ../shared] [--solvers highs,cbc,ortools]

Prints one row per instance: the published optimum, whether each back end matched it exactly,
and its median wall time (model build + solve, in-process, i.e. without the ~0.7 s worker
start-up).  The ratio columns compare each back end with HiGHS measured in the same run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import qzopt
from qzopt.io.orlib import load_cap, load_pmed


def optima(readme: Path) -> dict[str, float]:
    text = readme.read_text()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\w+) \| [^|]+\| [^|]+\| ([\d.]+) \|$", text, re.M)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--solvers", default="highs,cbc,ortools")
    ap.add_argument("--time-limit", type=float, default=300)
    args = ap.parse_args()
    orlib = Path(args.shared) / "benchmarks" / "orlib"
    opt = optima(orlib / "README.md")
    solvers = args.solvers.split(",")
    table = Table(title=f"OR-Library, shipped instances: median of {args.repeats} runs (s)")
    for col in ["instance", "optimum"] + [f"{s} s" for s in solvers] + [f"{s}/highs" for s in solvers[1:]] + ["all exact"]:
        table.add_column(col, justify="right")
    console = Console()
    names = sorted(opt, key=lambda k: (k.startswith("cap"), int(re.sub(r"\D", "", k))))
    for name in names:
        path = orlib / ("pmed" if name.startswith("pmed") else "cap") / f"{name}.txt"
        sc = load_pmed(path) if name.startswith("pmed") else load_cap(path)
        med, exact = {}, True
        for s in solvers:
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = qzopt.solve(sc, solver=s, fallback=[], isolate=False, time_limit=args.time_limit)
                times.append(time.perf_counter() - t0)
                exact &= res.status == "optimal" and abs(res.objective - opt[name]) <= 1e-3
            med[s] = statistics.median(times)
        row = [name, f"{opt[name]:,.3f}"] + [f"{med[s]:.2f}" for s in solvers]
        row += [f"{med[s] / med[solvers[0]]:.1f}" for s in solvers[1:]] + ["yes" if exact else "NO"]
        table.add_row(*row)
        console.print(f"{name}: " + ", ".join(f"{s} {med[s]:.2f} s" for s in solvers), style="dim")
    console.print(table)


if __name__ == "__main__":
    main()
