"""Solver-neutral model representation.

A :class:`LinearModel` is a mixed-integer linear programme stored as arrays, in the spirit of
linopy: every *variable block* is a contiguous range of column indices with pandas labels,
every *constraint block* is a set of sparse rows given as COO triplets.  Nothing
solver-specific exists until a back end receives the :class:`MatrixForm` (plain numpy / scipy
arrays, cheap to pickle into a worker process).

Rows use the range form ``row_lower <= A x <= row_upper`` (one row can be ``=``, ``<=`` or
``>=``), columns ``col_lower <= x <= col_upper``; the objective is always minimised:
``min c x + offset``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from qzopt.models.matrix import MatrixForm

INF = np.inf
VarKind = Literal["continuous", "binary", "integer"]
Sense = Literal["==", "<=", ">="]


@dataclass
class VarBlock:
    """A named block of variables occupying columns ``start .. start+size-1``."""

    name: str
    start: int
    size: int
    labels: pd.Index
    kind: VarKind

    @property
    def cols(self) -> np.ndarray:
        """Global column indices of the block, in label order."""
        return np.arange(self.start, self.start + self.size)

    def col(self, positions: np.ndarray | Sequence[int]) -> np.ndarray:
        """Global column indices of the given block positions."""
        return self.start + np.asarray(positions, dtype=np.int64)


@dataclass
class ConBlock:
    """A named block of constraint rows ``start .. start+size-1``."""

    name: str
    start: int
    size: int
    labels: pd.Index


@dataclass
class _Triplets:
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)


class LinearModel:
    """A MILP assembled block by block from numpy arrays (no object per term).

    Typical use::

        m = LinearModel("demo")
        y = m.add_variables("open", pd.Index(["a", "b"]), kind="binary", cost=[10.0, 12.0])
        m.add_constraints("count", rows=[0, 0], cols=y.cols, vals=[1, 1], sense="==", rhs=[1])
        form = m.to_matrix()
    """

    def __init__(self, name: str = "qzopt") -> None:
        self.name = name
        self.var_blocks: dict[str, VarBlock] = {}
        self.con_blocks: dict[str, ConBlock] = {}
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._kinds: list[np.ndarray] = []
        self._row_lower: list[np.ndarray] = []
        self._row_upper: list[np.ndarray] = []
        self._trip = _Triplets()
        self._extra_cost: list[tuple[np.ndarray, np.ndarray]] = []
        self.offset = 0.0
        self.num_cols = 0
        self.num_rows = 0
        self._start: list[tuple[np.ndarray, np.ndarray]] = []  # (columns, values), later ones win
        self._A: tuple[tuple[int, int, int], sp.csr_matrix] | None = None  # (shape, triplet blocks) -> A
        self._matrix: MatrixForm | None = None
        self._emphasis = "balanced"

    # ------------------------------------------------------------------ variables
    @property
    def emphasis(self) -> str:
        """Passed on as :attr:`MatrixForm.emphasis`: ``balanced`` or ``proof``."""
        return self._emphasis

    @emphasis.setter
    def emphasis(self, value: str) -> None:
        self._emphasis = value
        self._matrix = None

    def add_variables(
        self,
        name: str,
        labels: pd.Index | Sequence,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = INF,
        kind: VarKind = "continuous",
        cost: float | np.ndarray = 0.0,
    ) -> VarBlock:
        """Add a block of variables, one per label; returns the block."""
        if name in self.var_blocks:
            raise ValueError(f"variable block {name!r} already exists")
        labels = labels if isinstance(labels, pd.Index) else pd.Index(labels)
        n = len(labels)
        lo = np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy()
        hi = np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy()
        if kind == "binary":
            lo = np.maximum(lo, 0.0)
            hi = np.minimum(hi, 1.0)
        block = VarBlock(name, self.num_cols, n, labels, kind)
        self.var_blocks[name] = block
        self._lower.append(lo)
        self._upper.append(hi)
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self._kinds.append(np.full(n, kind != "continuous"))
        self.num_cols += n
        self._matrix = None
        return block

    def var(self, name: str) -> VarBlock:
        return self.var_blocks[name]

    def add_cost(self, cols: np.ndarray, vals: np.ndarray | float) -> None:
        """Add objective coefficients to existing columns (summed where repeated)."""
        cols = np.asarray(cols, dtype=np.int64)
        self._extra_cost.append((cols, np.broadcast_to(np.asarray(vals, float), cols.shape).copy()))
        self._matrix = None

    def clear_objective(self) -> None:
        """Set every objective coefficient (and the offset) to zero, e.g. to minimise a fee instead."""
        self._cost = [np.zeros_like(c) for c in self._cost]
        self._extra_cost = []
        self.offset = 0.0
        self._matrix = None

    def fix(self, block: VarBlock, positions: np.ndarray, value: float | np.ndarray) -> None:
        """Fix variables of a block (by position) to a value: lower = upper = value."""
        self.set_bounds(block, positions, value, value)

    def set_bounds(
        self,
        block: VarBlock,
        positions: np.ndarray,
        lower: float | np.ndarray | None = None,
        upper: float | np.ndarray | None = None,
    ) -> None:
        """Change bounds of some variables of a block (by position within the block)."""
        idx = list(self.var_blocks).index(block.name)
        positions = np.asarray(positions, dtype=np.int64)
        if lower is not None:
            self._lower[idx][positions] = lower
        if upper is not None:
            self._upper[idx][positions] = upper
        self._matrix = None

    def set_start(self, block: VarBlock, positions: np.ndarray, values: np.ndarray) -> None:
        """Record a MIP start (warm start) for some variables."""
        positions = np.asarray(positions, dtype=np.int64)
        values = np.broadcast_to(np.asarray(values, float), positions.shape).copy()
        self._start.append((block.start + positions, values))
        self._matrix = None

    def set_start_vector(self, x: np.ndarray) -> None:
        """Record a MIP start for every column (``x``: one value per column, NaN = unknown)."""
        x = np.asarray(x, float)
        if x.shape != (self.num_cols,):
            raise ValueError(f"a start needs {self.num_cols} values, got {x.shape}")
        self._start.append((np.arange(self.num_cols), x.copy()))
        self._matrix = None

    def fix_integers(self, x: np.ndarray) -> None:
        """Fix every integer column to its value in ``x`` (rounded; one value per column)."""
        x = np.asarray(x, float)
        for idx, block in enumerate(self.var_blocks.values()):
            ints = np.flatnonzero(self._kinds[idx])
            value = np.round(x[block.start + ints])
            self._lower[idx][ints] = value
            self._upper[idx][ints] = value
        self._matrix = None

    # ---------------------------------------------------------------- constraints
    def add_constraints(
        self,
        name: str,
        rows: np.ndarray | Sequence[int],
        cols: np.ndarray | Sequence[int],
        vals: np.ndarray | Sequence[float] | float,
        sense: Sense | np.ndarray | None = None,
        rhs: np.ndarray | Sequence[float] | float | None = None,
        labels: pd.Index | Sequence | None = None,
        lower: np.ndarray | float | None = None,
        upper: np.ndarray | float | None = None,
        size: int | None = None,
    ) -> ConBlock:
        """Add a block of rows given as COO triplets.

        ``rows`` are block-local row numbers (0 .. size-1), ``cols`` global column indices.
        Either ``sense`` and ``rhs`` or ``lower``/``upper`` give the row bounds.
        """
        if name in self.con_blocks:
            raise ValueError(f"constraint block {name!r} already exists")
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).copy()
        if size is None:
            size = len(labels) if labels is not None else (int(rows.max()) + 1 if rows.size else 0)
        if labels is None:
            labels = pd.RangeIndex(size)
        elif not isinstance(labels, pd.Index):
            labels = pd.Index(labels)
        if len(labels) != size:
            raise ValueError(f"constraint block {name!r}: {len(labels)} labels for {size} rows")
        if sense is not None:
            r = np.broadcast_to(np.asarray(rhs, dtype=float), (size,))
            s = np.broadcast_to(np.asarray(sense), (size,))
            lo = np.where(s == "<=", -INF, r)
            hi = np.where(s == ">=", INF, r)
        else:
            lo = np.broadcast_to(np.asarray(-INF if lower is None else lower, float), (size,)).copy()
            hi = np.broadcast_to(np.asarray(INF if upper is None else upper, float), (size,)).copy()
        block = ConBlock(name, self.num_rows, size, labels)
        self.con_blocks[name] = block
        self._trip.rows.append(rows + self.num_rows)
        self._trip.cols.append(cols)
        self._trip.vals.append(vals)
        self._row_lower.append(np.asarray(lo, float))
        self._row_upper.append(np.asarray(hi, float))
        self.num_rows += size
        self._matrix = None
        return block

    def add_terms(self, name: str, rows: np.ndarray | Sequence[int], cols: np.ndarray | Sequence[int],
                  vals: np.ndarray | Sequence[float] | float) -> None:
        """Add coefficients to rows of an existing constraint block (block-local row numbers).

        Used when a later block feeds an earlier balance, e.g. second-echelon flows arriving
        at plants add to the plants' ``load_balance`` rows."""
        block = self.con_blocks[name]
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= block.size):
            raise ValueError(f"rows outside constraint block {name!r}")
        self._trip.rows.append(rows + block.start)
        self._trip.cols.append(np.asarray(cols, dtype=np.int64))
        self._trip.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).copy())
        self._matrix = None

    # -------------------------------------------------------------------- output
    def to_matrix(self) -> MatrixForm:
        """Assemble (and cache) the arrays a solver back end receives."""
        if self._matrix is not None:
            return self._matrix
        cat = lambda xs, dt=float: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
        c = cat(self._cost)
        for cols, vals in self._extra_cost:
            np.add.at(c, cols, vals)
        key = (self.num_rows, self.num_cols, len(self._trip.rows))
        if self._A is None or self._A[0] != key:  # bounds, costs and starts change; A is kept
            A = sp.csr_matrix(
                (cat(self._trip.vals), (cat(self._trip.rows, np.int64), cat(self._trip.cols, np.int64))),
                shape=(self.num_rows, self.num_cols),
            )
            A.sum_duplicates()
            A.eliminate_zeros()
            self._A = (key, A)
        A = self._A[1]
        start = None
        if self._start:
            start = np.full(self.num_cols, np.nan)
            for cols, values in self._start:
                start[cols] = values
        self._matrix = MatrixForm(
            name=self.name,
            c=c,
            offset=float(self.offset),
            A=A,
            row_lower=cat(self._row_lower),
            row_upper=cat(self._row_upper),
            col_lower=cat(self._lower),
            col_upper=cat(self._upper),
            integrality=cat(self._kinds, bool),
            start=start,
            emphasis=self._emphasis,
        )
        return self._matrix

    def values(self, name: str, x: np.ndarray) -> pd.Series:
        """The solution values of one variable block, indexed by its labels."""
        b = self.var_blocks[name]
        return pd.Series(x[b.start : b.start + b.size], index=b.labels, name=name)

    def summary(self) -> pd.DataFrame:
        """One row per block: kind, count; handy in notebooks and logs."""
        rows = [("variables", b.name, b.kind, b.size) for b in self.var_blocks.values()]
        rows += [("constraints", b.name, "", b.size) for b in self.con_blocks.values()]
        return pd.DataFrame(rows, columns=["part", "block", "kind", "count"])
