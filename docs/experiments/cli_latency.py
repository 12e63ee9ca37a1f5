"""Wall time of ``qzopt`` commands as a user types them, this checkout against a baseline one
(docs/performance.md item 33: what a command imports and draws besides its solve).

Not part of the package and not run by the tests.  BASE is another checkout of qzopt (e.g.
``git worktree add /tmp/base <rev>``); each command runs RUNS times in each checkout,
alternating, as ``python -m qzopt.cli ...`` in a fresh process with that checkout first on
``PYTHONPATH`` (the solver workers inherit it).  Every run writes to a fresh folder, and
``qzopt share`` gets a fresh cache, so each run does the same work.  The script prints the
median wall seconds of each and their ratio (this / base):

    python docs/experiments/cli_latency.py BASE [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
SEWAGE3 = str(HERE / "scenarios" / "teaching" / "sewage-3towns.yaml")
MSW = str(HERE / "scenarios" / "qianzhong-msw.yaml")

#: (label, arguments after ``qzopt``); OUT is replaced by a fresh folder, CACHE by a fresh cache,
#: RUN / SHARE / FRONT by the outputs written once before the timed runs.
COMMANDS: list[tuple[str, list[str]]] = [
    ("--version", ["--version"]),
    ("validate (teaching)", ["validate", SEWAGE3]),
    ("solve (teaching, fee rule)", ["solve", SEWAGE3, "-o", "OUT"]),
    ("share (teaching)", ["share", SEWAGE3, "--method", "proportional", "-o", "OUT", "--cache", "CACHE"]),
    ("frontier (teaching, 2 points)", ["frontier", SEWAGE3, "--points", "2", "-o", "OUT"]),
    ("report (+ sharing, frontier)", ["report", "RUN", "--sharing", "SHARE", "--frontier", "FRONT", "-o", "OUT/r.html"]),
    ("solve (README's Qianzhong MSW)", ["solve", MSW, "-o", "OUT"]),
]


def run(checkout: str, args: list[str], tmp: Path, fixed: dict[str, str]) -> float:
    out = tempfile.mkdtemp(dir=tmp)
    swap = {**fixed, "OUT": out, "CACHE": out + "/cache"}
    argv = [a.replace("OUT", out) if a.startswith("OUT/") else swap.get(a, a) for a in args]
    env = dict(os.environ, PYTHONPATH=checkout)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", *argv], env=env, cwd=tmp,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: qzopt {' '.join(argv)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return seconds


def main(base: str, runs: int = 5) -> None:
    this = str(HERE)
    with tempfile.TemporaryDirectory(prefix="qzopt-latency-") as name:
        tmp = Path(name)
        fixed = {"RUN": str(tmp / "run"), "SHARE": str(tmp / "share"), "FRONT": str(tmp / "front")}
        for args in (["solve", SEWAGE3, "-o", fixed["RUN"]],
                     ["share", SEWAGE3, "--method", "proportional", "-o", fixed["SHARE"], "--cache", str(tmp / "c")],
                     ["frontier", SEWAGE3, "--points", "2", "-o", fixed["FRONT"]]):
            subprocess.run([sys.executable, "-m", "qzopt.cli", *args], env=dict(os.environ, PYTHONPATH=this),
                           check=True, capture_output=True)
        print(f"{runs} runs each, alternating; base {base}, this {this}; {os.cpu_count()} cores")
        print(f"{'command':34} {'base s':>8} {'this s':>8} {'ratio':>6}")
        for label, args in COMMANDS:
            wall: dict[str, list[float]] = {"base": [], "this": []}
            for _ in range(runs):
                for way, checkout in (("base", base), ("this", this)):
                    wall[way].append(run(checkout, args, tmp, fixed))
            b, t = statistics.median(wall["base"]), statistics.median(wall["this"])
            print(f"{label:34} {b:8.2f} {t:8.2f} {t / b:6.3f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__.split("\n\n")[-1])
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
