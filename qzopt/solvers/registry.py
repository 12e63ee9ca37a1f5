"""Back-end registry, isolation in a worker process, and the fallback chain.

Names: ``highs`` (highspy), ``cbc`` (CBC binary bundled with PuLP), ``ortools`` (SCIP through
OR-Tools' model_builder), ``ortools-sat`` (CP-SAT, pure-integer models only) and
``pulp:<SOLVER>`` for any solver PuLP can drive (``pulp:GUROBI_CMD``, ``pulp:CPLEX_CMD`` …).
"""

from __future__ import annotations

import contextvars
import importlib
import math
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from qzopt.models.matrix import MatrixForm
from qzopt.solvers.base import Backend, RawSolution, SolveOptions, start_if_better

#: name -> "module:Class"; modules are imported only when the back end is used.
BACKENDS: dict[str, str] = {
    "highs": "qzopt.solvers.highs:HighsBackend",
    "cbc": "qzopt.solvers.cbc:CbcBackend",
    "ortools": "qzopt.solvers.ortools:OrtoolsBackend",
    "ortools-sat": "qzopt.solvers.ortools:OrtoolsSatBackend",
}

#: Default order: the fastest open solver first, CBC (always installed with PuLP) next,
#: OR-Tools' SCIP as the fallback of last resort.
DEFAULT_ORDER: tuple[str, ...] = ("highs", "cbc", "ortools")

#: The ``solver`` of a result whose plan is the model's MIP start because no back end answered.
START_SOLVER = "none (MIP start)"

#: Seconds a worker may run past its time limit (start-up, model transfer, final output)
#: before it is killed.
GRACE_SECONDS = 20.0


def get_backend(name: str) -> Backend:
    """The back end called ``name`` (raises KeyError with :func:`unknown_name`'s text)."""
    problem = unknown_name(name)
    if problem:
        raise KeyError(problem)
    if name.startswith("pulp:"):
        from qzopt.solvers.pulp_generic import PulpBackend

        return PulpBackend(name.split(":", 1)[1])
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def unknown_name(name: str, auto: bool = False) -> str | None:
    """Why ``name`` names no back end ("unknown solver 'hihgs' (did you mean 'highs'?); known:
    ..."), or None when it names one: a registered name, ``pulp:<SOLVER>`` with a
    solver PuLP knows (installed or not: a known solver that is missing here is the fallback
    chain's business, a misspelt one is the user's), or ``auto`` where ``auto`` is allowed
    (the first solver, not a fallback)."""
    from qzopt.errors import closest

    if name in BACKENDS or (auto and name == "auto"):
        return None
    if name.startswith("pulp:"):
        import pulp

        known = list(dict.fromkeys(pulp.listSolvers()))  # PuLP lists some names twice
        solver = name.split(":", 1)[1]
        if solver in known:
            return None
        near = closest(solver, known)
        return (f"PuLP knows no solver {solver!r}" + (f" (did you mean 'pulp:{near}'?)" if near else "")
                + f"; PuLP's solvers: {', '.join(known)}")
    known = ["auto"] * auto + [*BACKENDS]
    near = closest(name, known)
    return (f"unknown solver {name!r}" + (f" (did you mean {near!r}?)" if near else "")
            + f"; known: {', '.join(known + ['pulp:<SOLVER>'])}")


@lru_cache(maxsize=None)
def unavailable_reason(name: str) -> str | None:
    """``None`` if the back end can be used here, else why not (cached per process)."""
    try:
        return get_backend(name).available()
    except KeyError as exc:
        return str(exc.args[0])
    except Exception as exc:  # import of a back-end module failed
        return f"{exc.__class__.__name__}: {exc}"


def available_backends() -> dict[str, str | None]:
    """Every registered back end and why it is unavailable (``None`` = usable)."""
    return {name: unavailable_reason(name) for name in BACKENDS}


def split_names(text: str) -> list[str]:
    """Solver names written as on the command line, comma-separated ("cbc, ortools"; "" = none)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def unknown_names(names: str | list[str] | tuple[str, ...] | None, first: bool = False) -> str | None:
    """:func:`unknown_name` for each of ``names`` (one name, or a list; read as :func:`normal_name`
    reads them), joined by "; ", or None when every one names a back end; ``first``: these are
    the first solver, which may be ``auto``."""
    names = [names] if isinstance(names, str) else list(names or [])
    problems = [p for n in names if (p := unknown_name(normal_name(n), auto=first))]
    return "; ".join(problems) or None


def solver_order(primary: str = "auto", fallback: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """The back ends to try, in order: ``primary`` then ``fallback`` (default: the others of
    :data:`DEFAULT_ORDER`), without repeats.  ``auto`` is the first of :data:`DEFAULT_ORDER`
    (HiGHS): with the default fallback that is the whole default order, with a given one HiGHS
    and then it (a fallback is what comes after the primary, never instead of it).

    A name that names no back end (:func:`unknown_name`) is refused with
    :class:`~qzopt.errors.QzoptError` before anything runs: a typo is not a missing solver."""
    from qzopt.errors import QzoptError

    problems = [f"{what}: {p}" for what, p in (("solver", unknown_names(primary, first=True)),
                                                ("fallback", unknown_names(fallback))) if p]
    if problems:
        raise QzoptError("; ".join(problems))
    first = [DEFAULT_ORDER[0]] if normal_name(primary) == "auto" else [normal_name(primary)]
    rest = list(DEFAULT_ORDER) if fallback is None else [normal_name(f) for f in fallback]
    return list(dict.fromkeys(first + rest))


def normal_name(name: str) -> str:
    """Back-end names are read without regard to case ("HiGHS" is highs); a PuLP solver name
    after ``pulp:`` keeps its case (PuLP's own names are upper case)."""
    name = str(name).strip()
    if name.lower().startswith("pulp:"):
        return "pulp:" + name.split(":", 1)[1]
    return name.lower()


#: The stop of the solves this thread runs (:func:`stopped_by`); None: nothing stops them early.
_STOP: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("qzopt_stop", default=None)
#: How often a worker process's parent looks at that stop, seconds.
STOP_POLL_SECONDS = 0.1
STOPPED = "stopped by qzopt: its answer was no longer wanted"


@contextmanager
def stopped_by(stop: threading.Event) -> Iterator[None]:
    """Within this block, in this thread: once ``stop`` is set, a back end running in a worker
    process (:func:`run_isolated`) is killed and the fallback chain tries no further back end.
    For a solve whose answer may turn out not to be needed (the comparison solve of a fee rule
    that runs beside the rule's own stages)."""
    token = _STOP.set(stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def _stop_asked() -> bool:
    stop = _STOP.get()
    return stop is not None and stop.is_set()


def run_isolated(name: str, model: MatrixForm, options: SolveOptions,
                 worker_cmd: list[str] | None = None) -> RawSolution:
    """Solve in a child process; a crash or hang there becomes a status, not our death.

    The child is killed ``GRACE_SECONDS`` (or 10 % of the limit, if more) after the time limit
    (:meth:`SolveOptions.watchdog`: not at all without a limit or with one beyond 1e6 s), and
    within :data:`STOP_POLL_SECONDS` of the stop of :func:`stopped_by` (termination "stopped").
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qzopt-") as tmp:
        src, dst = Path(tmp) / "in.pkl", Path(tmp) / "out.pkl"
        with open(src, "wb") as fh:
            pickle.dump((name, model, options), fh, protocol=pickle.HIGHEST_PROTOCOL)
        cmd = (worker_cmd or [sys.executable, "-m", "qzopt.solvers.worker"]) + [str(src), str(dst)]
        timeout = options.watchdog(GRACE_SECONDS)
        out = None if options.verbose else subprocess.DEVNULL
        proc = subprocess.Popen(cmd, stdout=out, stderr=None if options.verbose else subprocess.PIPE,
                                start_new_session=True)
        stoppable = _STOP.get() is not None
        while True:
            wait = None if timeout is None else max(0.0, timeout - (time.perf_counter() - t0))
            if stoppable:  # look at the stop every STOP_POLL_SECONDS
                wait = STOP_POLL_SECONDS if wait is None else min(wait, STOP_POLL_SECONDS)
            try:
                _, err = proc.communicate(timeout=wait)  # retried after a timeout without losing output
                break
            except subprocess.TimeoutExpired:
                if _stop_asked():
                    _kill_group(proc)
                    return RawSolution(solver=name, status="error", termination="stopped",
                                       seconds=time.perf_counter() - t0, message=STOPPED)
                if timeout is not None and time.perf_counter() - t0 >= timeout:
                    _kill_group(proc)
                    return RawSolution(solver=name, status="no_solution", termination="killed",
                                       seconds=time.perf_counter() - t0,
                                       message=f"{name} ran {timeout:.0f} s, past its {options.time_limit:g} s "
                                               "time limit, and was stopped by qzopt")
        seconds = time.perf_counter() - t0
        if proc.returncode != 0 or not dst.exists():
            rc = proc.returncode
            how = f"signal {signal.Signals(-rc).name}" if rc < 0 and -rc in signal.Signals._value2member_map_ \
                else f"exit code {rc}"
            tail = (err or b"").decode(errors="replace").strip().splitlines()[-3:]
            return RawSolution(solver=name, status="error", termination="crashed", seconds=seconds,
                               message=f"{name} crashed ({how})" + (f": {' | '.join(tail)}" if tail else ""))
        with open(dst, "rb") as fh:
            raw: RawSolution = pickle.load(fh)
        return raw


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


@dataclass
class Attempt:
    """One back end tried by the fallback chain, and why it did not answer (if it did not)."""

    solver: str
    reason: str
    status: str
    seconds: float


#: Tolerance of the check every back end's plan passes (rows relative to 1 + |A| |x|, bounds and
#: integrality absolute): looser than the solvers' own 1e-6 so that their rounding never fails it.
PLAN_TOLERANCE = 1e-5


def plan_holds(model: MatrixForm, x: np.ndarray) -> bool:
    """The check every plan passes before it is reported: ``x`` meets ``model``'s rows, bounds
    and integrality within :data:`PLAN_TOLERANCE`."""
    return model.feasible(x, PLAN_TOLERANCE, integral=True)


def solve_with_fallback(
    model: MatrixForm,
    options: SolveOptions,
    order: list[str],
    isolate: bool = True,
    on_event: Callable[[str], None] | None = None,
) -> tuple[RawSolution, list[Attempt]]:
    """Try back ends in ``order`` until one returns an answer.

    An answer is a solution (optimal or feasible) or a proof (infeasible, unbounded).  A back end
    that is missing, raises, crashes, or stops at its time limit with no solution is recorded
    in the attempts list with the reason, and the next one is tried.
    """
    attempts: list[Attempt] = []
    last: RawSolution | None = None
    bounds: list[float] = []  # of back ends stopped by the limit without a plan: each one proven
    for k, name in enumerate(order):
        if _stop_asked():  # the answer is no longer wanted: no back end is tried after the stop
            return RawSolution(solver="none", status="error", termination="stopped", message=STOPPED), attempts
        then = "trying the next solver" if k + 1 < len(order) else "no fallback solver is left"
        reason = unavailable_reason(name)
        if reason is not None:
            attempts.append(Attempt(name, f"unavailable: {reason}", "error", 0.0))
            if on_event:
                on_event(f"{name}: unavailable ({reason}); {then}")
            continue
        if on_event:
            on_event(f"solving with {name}")
        if isolate:
            raw = run_isolated(name, model, options)
        else:
            try:
                raw = get_backend(name).solve(model, options)
            except Exception as exc:
                raw = RawSolution(solver=name, status="error", termination="exception",
                                  message=f"{exc.__class__.__name__}: {exc}")
        if raw.status in ("optimal", "feasible") and raw.x is not None and not plan_holds(model, raw.x):
            # never report a vector that breaks the model (e.g. an LP relaxation handed back
            # as a plan): it is a failure of that back end, and the next one is tried
            raw = replace(raw, status="error", x=None, objective=None,
                          message=f"returned a {raw.status} answer that breaks the model's rows or integrality "
                                  f"(termination: {raw.termination or 'none'}); not used")
        last = raw
        if raw.status in ("optimal", "feasible", "infeasible", "unbounded") and (
            raw.status not in ("optimal", "feasible") or raw.x is not None
        ):
            return start_if_better(model, raw), attempts
        why = raw.message or raw.termination or raw.status
        if raw.status == "no_solution":
            why = f"no feasible solution within the time limit ({why})"
            if raw.bound is not None and math.isfinite(raw.bound):
                bounds.append(raw.bound)
        attempts.append(Attempt(name, why, raw.status, raw.seconds))
        if on_event:
            on_event(f"{name}: {why}; {then}")
    if last is None:
        return RawSolution(solver="none", status="error",
                           message=f"no solver is available (tried {', '.join(order) or 'none'}; see fallbacks)"
                           ), attempts
    if model.start is not None and last.status not in ("infeasible", "unbounded"):
        raw = start_if_better(model, RawSolution(solver=START_SOLVER, status="error", bound=max(bounds, default=None),
                                                 seconds=last.seconds))
        if raw.x is not None:  # no back end answered, but the plan the model was built with holds
            return replace(raw, message="no back end answered (see fallbacks); the plan reported is the MIP "
                                        "start qzopt's presolve built, checked feasible, not solved by any back end",
                           termination="no back end answered"), attempts
    return replace(last, solver="none"), attempts  # every back end failed: none gave this answer
