"""Run one (solver, instance) in its own process and measure it.

Each run gets a fresh interpreter (``multiprocessing`` *spawn*) in a new session, so that
imports, caches and memory of one run never flatter the next, and so that the whole process
group (CBC's child processes included) can be killed at the time limit.  Peak memory is the
largest resident set of the worker or of any child it waited for (``ru_maxrss``), in MB.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import signal
import time
import traceback

from qzopt.bench.suites import Instance

#: Seconds a run may take past its time limit (interpreter start, imports, reading the file)
#: before it is killed and recorded as ``timeout``.
GRACE_SECONDS = 10.0


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # Linux reports kB


def _child(solver: str, inst: Instance, time_limit: float, conn) -> None:
    os.setsid()  # own process group: the parent can kill CBC and friends with us
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
    ``gap``, ``build_s``, ``solve_s``, ``total_s`` (seconds) and ``peak_mb``.
    """
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(solver, inst, time_limit, send), daemon=False)
    t0 = time.perf_counter()
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
    if out is None:
        return {"status": "error", "total_s": wall, "message": f"worker died (exit code {proc.exitcode})"}
    if out.get("status") not in ("optimal",) and out.get("total_s", 0) > time_limit:
        out["status"] = "timeout" if out.get("status") in ("feasible", "no_solution") else out["status"]
    return out


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.join(10)
