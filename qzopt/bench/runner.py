"""Run one (solver, instance) in its own process and measure it.

Each run gets a fresh interpreter (``multiprocessing`` *spawn*) in a new session, so that
imports, caches and memory of one run never flatter the next, and so that the whole process
group (CBC's child processes included) can be killed at the time limit, or when the harness is
stopped (Ctrl-C, SIGTERM): no worker or CBC outlives it.  Each run has its own temporary folder
(PuLP's model files), removed after the run, killed or not.  Peak memory is the largest resident
set of the worker itself (``VmHWM``: not the harness's, which a spawned worker's ``ru_maxrss``
inherits) or of any child it waited for (CBC; ``ru_maxrss``), in MB (10^6 bytes).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import shutil
import signal
import tempfile
import time
import traceback
from pathlib import Path

from qzopt.bench.suites import Instance

#: Seconds a run may take past its time limit (interpreter start, imports, reading the file)
#: before it is killed and recorded as ``timeout``.
GRACE_SECONDS = 10.0


def _peak_mb() -> float:
    """The worker's peak memory in MB: the larger of its own high-water resident set (``VmHWM``
    of /proc/self/status, which starts afresh at exec) and the largest child's (``ru_maxrss``),
    both in KiB."""
    own = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = float(line.split()[1])
                break
    except OSError:  # not Linux: the rusage figure, which may include the parent's peak
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) * 1024 / 1e6


def _child(solver: str, inst: Instance, time_limit: float, conn, scratch: str) -> None:
    os.setsid()  # own process group: the parent can kill CBC and friends with us
    os.environ["TMPDIR"] = os.environ["TMP"] = tempfile.tempdir = scratch  # PuLP's model and solution files
    try:
        from qzopt.bench.cases import run

        out = run(solver, inst, time_limit)
    except Exception as exc:  # reported as a status, never a crash of the harness
        out = {"status": "error", "message": f"{exc.__class__.__name__}: {exc}", "trace": traceback.format_exc()}
    out["peak_mb"] = _peak_mb()
    conn.send(out)
    conn.close()


def measure(solver: str, inst: Instance, time_limit: float) -> dict:
    """Run ``solver`` on ``inst`` in a worker process; kill it ``GRACE_SECONDS`` after ``time_limit``.

    Returns the worker's figures: ``status`` (optimal, feasible, timeout, error …), ``objective``,
    ``gap``, ``build_s``, ``solve_s``, ``total_s`` (seconds) and ``peak_mb``.  A run that ends
    after ``time_limit`` counts as ``timeout`` whatever it found, for qzopt and the peers alike
    (the grace is for starting the worker, not for solving).  When the harness is interrupted
    while the worker runs, the worker's process group is killed before the interrupt goes on.
    """
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    scratch = tempfile.mkdtemp(prefix="qzopt-bench-")
    proc = ctx.Process(target=_child, args=(solver, inst, time_limit, send, scratch), daemon=False)
    t0 = time.perf_counter()
    try:
        proc.start()
        send.close()
        out = None
        if recv.poll(time_limit + GRACE_SECONDS):
            try:
                out = recv.recv()
            except EOFError:
                out = None
        wall = time.perf_counter() - t0
        if proc.is_alive() and out is None:
            _kill(proc)
            return {"status": "timeout", "total_s": wall, "message": f"killed after {wall:.0f} s"}
        proc.join(30)
        if proc.is_alive():
            _kill(proc)
    except BaseException:  # Ctrl-C, SIGTERM (raised as KeyboardInterrupt by the harness): no orphan
        _kill(proc)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if out is None:
        return {"status": "error", "total_s": wall, "message": f"worker died (exit code {proc.exitcode})"}
    if out.get("total_s", 0) > time_limit and out.get("status") in ("optimal", "feasible", "no_solution"):
        out["message"] = (f"{out['status']} after {out['total_s']:.1f} s, past the {time_limit:g} s limit"
                          + (f"; {out['message']}" if out.get("message") else ""))
        out["status"] = "timeout"
    return out


def _kill(proc) -> None:
    if proc.pid is None:  # never started
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if proc.is_alive():
            proc.kill()
    proc.join(10)
