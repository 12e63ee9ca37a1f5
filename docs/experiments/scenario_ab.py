"""Bundled scenarios solved by two checkouts of qzopt, turn about, each run in a fresh process
(docs/performance.md item 37).

Not part of the package and not run by the tests.  Each run is ``qzopt.solve(path)`` as the
README's main job calls it (the solver in its own child process, the scenario's own limits),
timed from the call to the answer; imports are not timed.  Prints per scenario and checkout the
median and every run's seconds, the objective and status, then the ratio of the medians (this
checkout over the baseline).  The baseline is a worktree of another commit, e.g.
``git worktree add /tmp/base HEAD~1``:

    python docs/experiments/scenario_ab.py /tmp/base [RUNS] [SCENARIO ...]
    # default: 7 runs of scenarios/qianzhong-msw.yaml
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]

RUN = """
import json, time
t0 = time.perf_counter()
from qzopt import api
t1 = time.perf_counter()
r = api.solve({path!r})
print(json.dumps({{"seconds": time.perf_counter() - t1, "objective": r.objective, "status": r.status}}))
"""


def run_once(checkout: Path, scenario: Path) -> dict:
    """One solve of ``scenario`` with the qzopt of ``checkout``, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", RUN.format(path=str(scenario))], cwd=checkout, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(base: Path, runs: int, scenarios: list[Path]) -> None:
    for scenario in scenarios:
        seconds: dict[str, list[float]] = {"baseline": [], "this": []}
        answers: dict[str, set] = {"baseline": set(), "this": set()}
        for _ in range(runs):
            for tag, checkout in (("baseline", base), ("this", HERE)):
                got = run_once(checkout, scenario)
                seconds[tag].append(got["seconds"])
                answers[tag].add((got["status"], round(got["objective"] or 0.0, 2)))
        print(scenario.name)
        for tag in seconds:
            print(f"  {tag:8s} median {statistics.median(seconds[tag]):.2f} s  runs "
                  f"{', '.join(f'{s:.2f}' for s in seconds[tag])}  answers {sorted(answers[tag])}")
        print(f"  ratio this / baseline: {statistics.median(seconds['this']) / statistics.median(seconds['baseline']):.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    base = Path(args[0]).resolve()
    runs = int(args[1]) if len(args) > 1 else 7
    paths = [Path(p).resolve() for p in args[2:]] or [HERE / "scenarios" / "qianzhong-msw.yaml"]
    main(base, runs, paths)
