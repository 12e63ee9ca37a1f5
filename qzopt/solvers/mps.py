"""A vectorised free-format MPS writer for :class:`~qzopt.models.matrix.MatrixForm`.

Columns are named ``C<j>``, rows ``R<i>`` (free rows, which constrain nothing, are left out), the
objective row ``OBJ``.  The objective offset is *not* written: readers disagree on its sign, so
back ends add ``model.offset`` themselves.  Integer columns are wrapped in ``MARKER`` blocks and
always get explicit bounds (old readers default integer columns to an upper bound of 1).

Numbers are formatted once per *distinct* value (facility models repeat a few coefficients
millions of times) with ``repr``, which round-trips exactly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qzopt.models.matrix import MatrixForm


def _numbers(values: np.ndarray) -> list[str]:
    """Exact decimal text of each value, formatting every distinct value only once."""
    if values.size == 0:
        return []
    uniq, inverse = np.unique(values, return_inverse=True)
    text = np.array([repr(float(v)) for v in uniq], dtype=object)
    return text[inverse].tolist()


def _names(prefix: str, idx: np.ndarray) -> list[str]:
    return [prefix + s for s in map(str, np.asarray(idx).tolist())]


def row_kinds(model: MatrixForm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: MPS type (E/L/G, '' for a free row), rhs and range (ranged rows are G + range)."""
    lo, hi = model.row_lower, model.row_upper
    flo, fhi = np.isfinite(lo), np.isfinite(hi)
    kind = np.full(lo.shape, "", dtype=object)
    rhs = np.zeros(lo.shape)
    rng = np.zeros(lo.shape)
    eq = flo & fhi & (lo == hi)
    ranged = flo & fhi & (lo != hi)
    only_hi, only_lo = ~flo & fhi, flo & ~fhi
    kind[eq], rhs[eq] = "E", lo[eq]
    kind[only_hi], rhs[only_hi] = "L", hi[only_hi]
    kind[only_lo], rhs[only_lo] = "G", lo[only_lo]
    kind[ranged], rhs[ranged], rng[ranged] = "G", lo[ranged], (hi - lo)[ranged]
    return kind, rhs, rng


def write_mps(model: MatrixForm, path: str | Path) -> None:
    """Write ``model`` to ``path`` in free MPS (a few seconds per million nonzeros)."""
    kind, rhs, rng = row_kinds(model)
    keep = kind != ""
    rows_kept = np.flatnonzero(keep)
    n = model.num_cols
    A = model.A.tocsc()
    ok = keep[A.indices]
    col_of_entry = np.repeat(np.arange(n), np.diff(A.indptr))[ok]
    # every column gets an objective entry first (so empty columns still appear), then its rows
    cols = np.concatenate([np.arange(n), col_of_entry])
    order = np.argsort(cols, kind="stable")
    cols = cols[order]
    row_names = np.array(["OBJ"] * n + _names("R", A.indices[ok]), dtype=object)[order]
    values = np.array(_numbers(np.concatenate([model.c, A.data[ok]])), dtype=object)[order]
    col_names = np.array(_names("C", np.arange(n)), dtype=object)
    lines = [" " + c + " " + r + " " + v for c, r, v in zip(col_names[cols].tolist(), row_names.tolist(),
                                                             values.tolist())]

    out: list[str] = [f"NAME {model.name.replace(' ', '_') or 'qzopt'}", "ROWS", " N OBJ"]
    out += [f" {k} R{i}" for k, i in zip(kind[rows_kept].tolist(), rows_kept.tolist())]
    out.append("COLUMNS")
    integ = model.integrality
    change = np.flatnonzero(np.diff(integ.astype(np.int8))) + 1
    starts, ends = np.r_[0, change], np.r_[change, n]
    entry_start, entry_end = np.searchsorted(cols, starts), np.searchsorted(cols, ends)
    for k, (cs, s, e) in enumerate(zip(starts.tolist(), entry_start.tolist(), entry_end.tolist())):
        if n and integ[cs]:
            out.append(f" M{k} 'MARKER' 'INTORG'")
        out.extend(lines[s:e])
        if n and integ[cs]:
            out.append(f" M{k} 'MARKER' 'INTEND'")
    out.append("RHS")
    nz = rows_kept[rhs[rows_kept] != 0]
    out += [f" RHS R{i} {v}" for i, v in zip(nz.tolist(), _numbers(rhs[nz]))]
    rr = rows_kept[rng[rows_kept] != 0]
    if rr.size:
        out.append("RANGES")
        out += [f" RNG R{i} {v}" for i, v in zip(rr.tolist(), _numbers(rng[rr]))]
    out.append("BOUNDS")
    out += _bounds(model)
    out.append("ENDATA")
    Path(path).write_text("\n".join(out) + "\n", encoding="ascii")


def _bounds(model: MatrixForm) -> list[str]:
    lo, hi, integ = model.col_lower, model.col_upper, model.integrality
    default = (lo == 0) & np.isposinf(hi) & ~integ
    j = np.flatnonzero(~default)
    l, h = lo[j], hi[j]
    fixed = np.isfinite(l) & (l == h)
    free = np.isneginf(l) & np.isposinf(h)
    rest = ~fixed & ~free
    out: list[str] = []

    def add(mask: np.ndarray, code: str, values: np.ndarray | None) -> None:
        names = _names("C", j[mask])
        if values is None:
            out.extend(f" {code} BND {c}" for c in names)
        else:
            out.extend(f" {code} BND {c} {v}" for c, v in zip(names, _numbers(values[mask])))

    # PL first: some readers (PuLP) take PL to mean "lower 0, upper infinite" and MI to mean
    # "lower -inf, upper 0", so the explicit LO / UP values must come after them.
    add(fixed, "FX", l)
    add(free, "FR", None)
    add(rest & np.isposinf(h), "PL", None)
    add(rest & np.isneginf(l), "MI", None)
    add(rest & np.isfinite(l), "LO", l)
    add(rest & np.isfinite(h), "UP", h)
    return out


def split_ranges(model: MatrixForm) -> MatrixForm:
    """The same model with every ranged row lo <= a x <= hi written as two rows (for readers
    without a RANGES section, such as PuLP's)."""
    lo, hi = model.row_lower, model.row_upper
    ranged = np.flatnonzero(np.isfinite(lo) & np.isfinite(hi) & (lo != hi))
    if ranged.size == 0:
        return model
    A = sp.vstack([model.A, model.A[ranged]], format="csr")
    new_lo = np.r_[lo, np.full(ranged.size, -np.inf)]
    new_hi = np.r_[np.where(np.isin(np.arange(hi.size), ranged), np.inf, hi), hi[ranged]]
    return dataclasses.replace(model, A=A, row_lower=new_lo, row_upper=new_hi)
