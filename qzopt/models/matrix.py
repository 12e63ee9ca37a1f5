"""The model as plain arrays: what solver back ends (and worker processes) receive.

Kept free of pandas so that a solver worker process starts quickly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class MatrixForm:
    """The model as arrays: what every solver back end receives.

    ``min c @ x + offset`` s.t. ``row_lower <= A @ x <= row_upper``,
    ``col_lower <= x <= col_upper``, ``x[integrality] integer``.
    """

    name: str
    c: np.ndarray
    offset: float
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray  # bool per column
    start: np.ndarray | None = None  # optional MIP start (full column vector, NaN = unknown)
    #: How a MIP solver should spend its effort: ``balanced`` (its defaults) or ``proof`` (the start
    #: comes from a presolve that left a small gap: skip primal heuristics and, on these small
    #: models, the solver's own presolve; see docs/solvers.md).
    emphasis: str = "balanced"

    @property
    def num_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    def feasible(self, x: np.ndarray, tol: float = 1e-6, integral: bool = False) -> bool:
        """True when ``x`` satisfies every row (within ``tol`` x (1 + |A| |x|), the size of the
        row's terms) and column bound (within ``tol``), and with ``integral`` also the
        integrality of the integer columns.

        The terms' size, not the row's value: a capacity row ``5000 - 3016 x1 - 12912 x2 = 0``
        whose share x2 a solver prints to 8 digits (0.15365551) is off by 5e-5 t/d, 1e-8 of its
        terms but 5e-5 of ``1 + |A x|`` (seen with CBC on cap41 and cap44)."""
        ax = self.A @ x
        scale = 1.0 + abs(self.A) @ np.abs(x)
        ok = (np.all(ax >= self.row_lower - tol * scale) and np.all(ax <= self.row_upper + tol * scale)
              and np.all(x >= self.col_lower - tol) and np.all(x <= self.col_upper + tol))
        if ok and integral:
            xi = x[self.integrality]
            ok = np.all(np.abs(xi - np.round(xi)) <= tol)
        return bool(ok)

    def without_fixed(self) -> tuple["MatrixForm", np.ndarray]:
        """The model without its fixed columns (lower == upper): their values move into the row
        bounds and the objective offset, and rows left with no column are dropped when the fixed
        values satisfy them (kept otherwise, so that a solver still reports the model
        infeasible).  Returns (reduced model, columns kept); a solution ``xr`` of the reduced
        model is ``x[kept] = xr`` with the fixed columns at their value."""
        fixed = self.col_lower == self.col_upper
        kept = np.flatnonzero(~fixed)
        if kept.size == self.num_cols:
            return self, kept
        value = np.where(fixed, self.col_lower, 0.0)
        shift = self.A @ value
        A = self.A.tocsc()[:, kept].tocsr()
        empty = np.diff(A.indptr) == 0
        lower, upper = self.row_lower - shift, self.row_upper - shift
        satisfied = (lower <= 1e-9 * (1 + np.abs(shift))) & (upper >= -1e-9 * (1 + np.abs(shift)))
        rows = np.flatnonzero(~(empty & satisfied))
        start = None if self.start is None else self.start[kept]
        reduced = MatrixForm(self.name, self.c[kept], self.offset + float(self.c @ value), A[rows],
                             lower[rows], upper[rows], self.col_lower[kept], self.col_upper[kept],
                             self.integrality[kept], start, self.emphasis)
        return reduced, kept

    def objective(self, x: np.ndarray) -> float:
        """The objective ``c @ x + offset`` of a full column vector ``x`` (the model's money
        units per year)."""
        return float(self.c @ x) + self.offset

    def expand(self, xr: np.ndarray, kept: np.ndarray) -> np.ndarray:
        """The column vector of this model for a solution ``xr`` of its :meth:`without_fixed`
        reduction (``kept`` as that returned): the fixed columns at their value."""
        x = self.col_lower.astype(float)
        x[kept] = xr
        return x

    def to_highspy(self, relax: bool = False):
        """A ``highspy.Highs`` object holding this model (log off), ready to ``run()``; with
        ``relax`` the integrality is dropped (the LP relaxation), else the MIP start, if any, is
        passed on (unknown values as 0)."""
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_ = self.num_cols
        lp.num_row_ = self.num_rows
        lp.col_cost_ = self.c
        lp.offset_ = self.offset
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        A = self.A.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        lp.a_matrix_.num_col_ = self.num_cols
        lp.a_matrix_.num_row_ = self.num_rows
        if self.is_mip and not relax:
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[f] for f in self.integrality.tolist()]
        h.passModel(lp)
        if self.start is not None and self.is_mip and not relax:
            sol = highspy.HighsSolution()
            sol.col_value = list(np.where(np.isnan(self.start), 0.0, self.start))
            sol.value_valid = True
            h.setSolution(sol)
        return h
