"""The interface every solver back end implements.

A back end receives a :class:`~qzopt.models.core.MatrixForm` and :class:`SolveOptions` and
returns a :class:`RawSolution`.  Back ends never see scenarios or pandas objects.

Status vocabulary (the ``status`` of ``result.json``):

- ``optimal``: a solution proven optimal within the requested relative gap;
- ``feasible``: a solution is known but not proven within the requested gap (time limit);
- ``infeasible``: the solver proved that no solution exists;
- ``unbounded``: the objective can decrease without limit (a modelling error);
- ``no_solution``: the solver stopped (time limit) without finding any solution;
- ``error``: the solver failed, crashed or is unavailable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np

from qzopt.errors import QzoptError
from qzopt.models.matrix import MatrixForm

Status = Literal["optimal", "feasible", "infeasible", "unbounded", "no_solution", "error"]

#: Relative gap used when the user asks for "proven optimal" (gap 0).  Solvers cannot work
#: with exactly zero in floating point; 1e-9 relative is far below any cost precision.
EXACT_GAP = 1e-9


@dataclass(frozen=True)
class SolveOptions:
    """What the user asks of a solver run.

    ``time_limit`` in seconds of wall-clock time per back end (``None`` = no limit);
    ``gap`` is the relative optimality gap at which the search may stop (0 = prove optimal);
    ``threads`` = ``None`` lets the solver decide; ``verbose`` streams the solver log.
    """

    time_limit: float | None = None
    gap: float = 0.0
    threads: int | None = None
    verbose: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse values that would silently change meaning (a negative limit, a gap of 5)."""
        for name, whole in (("time_limit", False), ("gap", False), ("threads", True)):
            v = getattr(self, name)
            if v is None and name != "gap":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer) if whole else (int, float, np.integer,
                                                                                        np.floating)):
                raise QzoptError(f"{name} {v!r}: must be a {'whole number' if whole else 'number'}, "
                                 f"not {type(v).__name__}")
        if self.time_limit is not None and not (math.isfinite(self.time_limit) and self.time_limit > 0):
            raise QzoptError(f"time_limit {self.time_limit!r}: must be a finite number of seconds above 0 (None = no limit)")
        if not (0.0 <= self.gap < 1.0):
            raise QzoptError(f"gap {self.gap!r}: must be a relative gap from 0 (prove optimal) to below 1, "
                             f"e.g. 0.01 for 1 %")
        if self.threads is not None and self.threads < 1:
            raise QzoptError(f"threads {self.threads!r}: must be 1 or more (None = the solver decides)")

    @property
    def effective_gap(self) -> float:
        return max(self.gap, EXACT_GAP)

    def watchdog(self, grace: float) -> float | None:
        """Seconds after which a child process solving with these options is stopped: the time
        limit plus ``grace`` seconds (or 10 % of the limit, if more); None (no watchdog) without a
        limit, or when that is beyond :data:`MAX_WATCHDOG_SECONDS` (a limit such as 1e9 s means
        "no limit", and the operating system's timers take no such timeout)."""
        if self.time_limit is None:
            return None
        seconds = self.time_limit + max(grace, 0.1 * self.time_limit)
        return seconds if seconds <= MAX_WATCHDOG_SECONDS else None


#: Longest watchdog timeout in seconds (about 11.6 days): ``poll()`` takes at most 2**31 - 1 ms
#: (24.8 days) and fails with OverflowError beyond it.  A longer time limit runs without a watchdog.
MAX_WATCHDOG_SECONDS = 1e6


@dataclass
class RawSolution:
    """What a back end returns: status, the column vector and the numbers that qualify it."""

    solver: str
    status: Status
    x: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    seconds: float = 0.0
    termination: str = ""
    message: str = ""
    log: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.x is not None and self.status in ("optimal", "feasible")

    @property
    def gap(self) -> float | None:
        """Relative gap |objective - bound| / max(|objective|, 1e-10) (0 when proven)."""
        return relative_gap(self.objective, self.bound)

    def noted(self, note: str, **changes) -> RawSolution:
        """This answer with ``changes`` made (fields, as :func:`dataclasses.replace` takes them)
        and ``note`` added to its message."""
        return replace(self, **changes, message=f"{self.message}; {note}" if self.message else note)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative optimality gap as HiGHS and CBC define it; ``None`` if either is unknown."""
    if objective is None or bound is None or not math.isfinite(objective) or not math.isfinite(bound):
        return None
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-10)


def bound_at_gap(objective: float, gap: float) -> float:
    """The least bound a minimisation proved within relative ``gap`` guarantees: objective - gap x
    |objective|, moved up by the last bits that rounding can add, so that :func:`relative_gap`
    of the two is never above ``gap`` (7,957 at 5 % gave 0.050000000000000044)."""
    bound = objective - gap * abs(objective)
    while (relative_gap(objective, bound) or 0.0) > gap:
        bound = float(np.nextafter(bound, objective))
    return bound


def objective_scale(c: np.ndarray) -> float:
    """A power of ten that brings the largest objective coefficient near 100.

    Measured: CBC 2.10.3 returned a value 0.009 % above the optimum as "Optimal" on the
    single-sourcing Qianzhong MSW model (coefficients up to 1e8 yuan/yr); with the objective
    scaled by 1e-6 it proved the true optimum (and faster).  Back ends that read an MPS file
    solve ``scale * c`` and divide objective and bound by ``scale``.
    """
    big = float(np.max(np.abs(c))) if c.size else 0.0
    if big <= 1e4:
        return 1.0
    return 10.0 ** (2 - int(np.floor(np.log10(big))))


def no_proof_after_limit(raw: RawSolution, options: SolveOptions, ran: float) -> RawSolution:
    """``raw``, except that "infeasible" said once the time limit had passed (``ran`` seconds of the
    solver's own run) is no proof: the status becomes ``no_solution``.  CBC stopped by its clock
    inside preprocessing says "Pre-processing says infeasible" (seen at a 1 ms limit on feasible
    models, run directly and through PuLP)."""
    if raw.status != "infeasible" or options.time_limit is None or ran < options.time_limit:
        return raw
    said = raw.termination or raw.status
    return replace(raw, status="no_solution", x=None, objective=None,
                   message=f"{raw.solver} said {said!r} after its {options.time_limit:g} s limit had passed; "
                           "not taken as a proof")


class Backend(Protocol):
    """A solver back end: a name, an availability probe, and ``solve``."""

    name: str
    description: str

    def available(self) -> str | None:
        """``None`` if usable here, else a one-line reason (e.g. the missing package)."""

    def solve(self, model: MatrixForm, options: SolveOptions) -> RawSolution:
        """Solve the model; must not raise for solver-side failures (return status error)."""


class SolverUnavailable(RuntimeError):
    """Raised when a requested back end cannot be used on this machine."""


def start_if_better(model: MatrixForm, raw: RawSolution, tol: float = 1e-6) -> RawSolution:
    """``raw``, or the model's MIP start when that is feasible and cheaper than what the solver
    returned (or the solver returned nothing): a solver stopped by its time limit may end worse
    than the plan it was handed, or before it read it.  The solver's bound is kept; the status
    is ``feasible`` unless the solver had proved its own answer within the asked gap."""
    if model.start is None or raw.status in ("infeasible", "unbounded"):
        return raw
    x = np.where(np.isnan(model.start), 0.0, model.start)
    if not model.feasible(x, tol, integral=True):
        return raw
    value = model.objective(x)
    if raw.x is not None and raw.objective is not None and value >= raw.objective - 1e-9 * max(1.0, abs(value)):
        return raw
    status = raw.status if raw.status == "optimal" else "feasible"
    note = (f"the solver's plan ({raw.objective:,.6g}) was worse than the MIP start ({value:,.6g}); the start is reported"
            if raw.objective is not None else f"the solver found no plan; the MIP start ({value:,.6g}) is reported")
    return raw.noted(note, status=status, x=x, objective=value)
