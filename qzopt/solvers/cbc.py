"""CBC, the binary bundled with PuLP (< 4), run on an MPS file as a child process.

qzopt enforces the time limit itself: CBC launched this way has been seen running past its own
``-sec`` limit on hard instances, so the process is killed ``max(5 s, 10 %)`` after the limit.
The dual bound and the termination reason are read from CBC's log.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from qzopt.models.matrix import MatrixForm
from qzopt.solvers.base import RawSolution, SolveOptions, no_proof_after_limit, objective_scale
from qzopt.solvers.mps import write_mps


def cbc_path() -> str | None:
    """Path of PuLP's bundled CBC binary (``None`` if PuLP or the binary is missing)."""
    try:
        import pulp

        with warnings.catch_warnings():  # PuLP 3.x warns that PULP_CBC_CMD goes away in 4.0 (pinned < 4)
            warnings.simplefilter("ignore", DeprecationWarning)
            path = pulp.PULP_CBC_CMD().path
    except Exception:
        return None
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


#: "Optimal - objective value 94.6", "Optimal (within gap tolerance) - objective value 7957.0",
#: "Stopped on time (no integer solution - continuous used) - objective value -10.7"
_HEAD = re.compile(r"^(?P<status>.+?)\s+-\s+objective value\s+(?P<obj>\S+)", re.I)


def parse_solution(text: str, n: int) -> tuple[str, float | None, np.ndarray]:
    """CBC's solution file: first line '<status> - objective value <v>', then one line per
    nonzero column '<index> C<j> <value> <reduced cost>'.  Returns (status words, objective, x)."""
    lines = text.splitlines()
    head = lines[0] if lines else ""
    m = _HEAD.match(head)
    status = (m.group("status") if m else head).strip().lower()
    obj = float(m.group("obj")) if m else None
    x = np.zeros(n)
    for line in lines[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "**":  # infeasibility marker prefix
            parts = parts[1:]
        if len(parts) >= 3 and parts[1].startswith("C") and parts[1][1:].isdigit():
            x[int(parts[1][1:])] = float(parts[2])
    return status, obj, x


def parse_log(log: str) -> dict[str, object]:
    """'Result - …', 'Objective value:', 'Lower bound:', 'Gap:' from CBC's final summary."""
    out: dict[str, object] = {}
    for key, pattern in (("result", r"^Result - (.+)$"), ("objective", r"^Objective value:\s+(\S+)"),
                         ("lower_bound", r"^Lower bound:\s+(\S+)"), ("gap", r"^Gap:\s+(\S+)")):
        m = re.search(pattern, log, re.M)
        if m:
            out[key] = m.group(1).strip()
    return out


class CbcBackend:
    name = "cbc"
    description = "CBC (COIN-OR) as bundled with PuLP; MPS file, child process, limit enforced by qzopt"

    def available(self) -> str | None:
        return None if cbc_path() else "PuLP's bundled CBC binary was not found (pip install 'pulp<4')"

    def command(self, mps: Path, sol: Path, model: MatrixForm, options: SolveOptions) -> list[str]:
        args = [str(cbc_path()), str(mps)]
        if options.time_limit is not None:
            args += ["-sec", f"{options.time_limit:g}", "-timeMode", "elapsed"]
        # primal tolerance 1e-9 (CBC default 1e-7): shares that sum to 1 - 1e-8 undercut a
        # published optimum of 1e6 by 1e-3 (seen on cap41, cap44)
        # seeds + 1: CBC's seed 0 means "the time of day" (its own help text), which no run repeats
        args += ["-primalTolerance", "1e-9", "-ratioGap", repr(options.effective_gap), "-allowableGap", "1e-9",
                 "-randomCbcSeed", str(options.seed + 1), "-randomSeed", str(options.seed + 1)]
        if options.threads:
            args += ["-threads", str(options.threads)]
        args += ["-solve" if model.is_mip else "-primalSimplex", "-solution", str(sol)]
        return args

    def solve(self, model: MatrixForm, options: SolveOptions) -> RawSolution:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="qzopt-cbc-") as tmp:
            mps, sol = Path(tmp) / "model.mps", Path(tmp) / "solution.txt"
            scale = objective_scale(model.c)
            write_mps(dataclasses.replace(model, c=model.c * scale), mps)
            cmd = self.command(mps, sol, model, options)
            timeout = options.watchdog(5.0)  # None: CBC's own -sec is the only limit
            started = time.perf_counter()  # CBC's own run, not the MPS writing before it
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)
            killed = False
            try:
                log, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                log, _ = proc.communicate()
            if options.verbose:
                sys.stderr.write(log)
            seconds = time.perf_counter() - t0
            ran = time.perf_counter() - started
            if killed:
                return RawSolution(self.name, "no_solution", seconds=seconds, termination="killed", log=log,
                                   message=f"CBC ran past its {options.time_limit:g} s limit and was killed by qzopt")
            if not sol.exists():
                return RawSolution(self.name, "error", seconds=seconds, termination=f"exit code {proc.returncode}",
                                   log=log, message="CBC wrote no solution: " + " | ".join(log.strip().splitlines()[-3:]))
            words, reported, x = parse_solution(sol.read_text(), model.num_cols)
        summary = parse_log(log)
        raw = self._result(model, words, x, summary, seconds, log, scale, reported)
        return no_proof_after_limit(raw, options, ran)

    def _result(self, model: MatrixForm, words: str, x: np.ndarray, summary: dict,
                seconds: float, log: str, scale: float, reported: float | None = None) -> RawSolution:
        result = str(summary.get("result", "")).lower()
        # CBC prints column values with 8 significant digits but the objective with 8 decimals:
        # c.x from the printed values can be off by 1e-8 relative (0.0016 on cap41's 1,040,444.375),
        # so CBC's own objective is used when it is consistent with c.x
        objective = model.objective(x)
        if reported is not None and np.isfinite(reported) and scale:
            own = float(reported) / scale + model.offset
            if abs(own - objective) <= 1e-6 * max(1.0, abs(objective)):
                objective = own
        bound = None
        if "lower_bound" in summary:
            try:
                bound = float(summary["lower_bound"]) / scale + model.offset
            except ValueError:
                bound = None
        if words.startswith("optimal"):
            status = "optimal"
            bound = objective if (bound is None or not model.is_mip) else bound
        elif "infeasible" in words:
            status = "infeasible"
        elif "unbounded" in words:
            status = "unbounded"
        elif words.startswith("stopped") and any(w in text for text in (words, result)
                                                 for w in ("no integer solution", "no feasible", "no solution")):
            status = "no_solution"  # e.g. "stopped on time (no integer solution - continuous used)"
        elif words.startswith("stopped"):
            # CBC writes a vector even without a solution (its LP relaxation): a plan only if integral
            status = "feasible" if model.feasible(x, integral=True) else "no_solution"
        else:
            status = "error"
        keep_x = status in ("optimal", "feasible")
        return RawSolution(self.name, status, x=x if keep_x else None, objective=objective if keep_x else None,
                           bound=bound, seconds=seconds, termination=words or result, log=log,
                           message="" if status != "error" else f"CBC ended with {words!r}")
