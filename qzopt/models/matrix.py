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
        """True when ``x`` satisfies every row (within ``tol`` x (1 + |A x|)) and column bound
        (within ``tol``), and with ``integral`` also the integrality of the integer columns."""
        ax = self.A @ x
        scale = 1.0 + np.abs(ax)
        ok = (np.all(ax >= self.row_lower - tol * scale) and np.all(ax <= self.row_upper + tol * scale)
              and np.all(x >= self.col_lower - tol) and np.all(x <= self.col_upper + tol))
        if ok and integral:
            xi = x[self.integrality]
            ok = np.all(np.abs(xi - np.round(xi)) <= tol)
        return bool(ok)
