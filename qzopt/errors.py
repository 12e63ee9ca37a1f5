"""Errors a user can act on.

Every error that reaches the command line is a :class:`QzoptError`; the CLI prints its text and
exits with the error's ``exit_code``, without a traceback: 2 (bad input) for most, 3 for
:class:`InfeasibleError`, 4 for :class:`SolverError` (the codes of ``qzopt/cli.py``).
:class:`ScenarioError` names the file, the field (and the line where YAML gives it) and what to do.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def closest(name: object, known: Iterable[object], cutoff: float = 0.6) -> str | None:
    """The name in ``known`` closest to ``name``: one that differs only in case or in spaces at the
    ends first ('b' -> 'B', which difflib's ratio misses for short names), else difflib's
    closest with a ratio of at least ``cutoff``; None when nothing is close."""
    names = [str(k) for k in known]
    plain = str(name).strip().casefold()
    same = [k for k in names if k.strip().casefold() == plain and k != str(name)]
    if same:
        return same[0]
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=cutoff)
    return close[0] if close else None


def few(items: Iterable[object], n: int = 5) -> str:
    """``items`` for a message: all of them as a list, or the first ``n`` and how many more
    ("['a', 'b', 'c', 'd', 'e'] and 12 more"), so that a long list is not taken for all there is.
    NumPy scalars are shown as plain numbers."""
    items = [x.item() if type(x).__module__ == "numpy" else x for x in items]
    return f"{items[:n]}" + (f" and {len(items) - n} more" if len(items) > n else "")


def few_names(items: Iterable[object], n: int = 5, sep: str = ", ") -> str:
    """The first ``n`` of ``items`` as text in a sentence, and how many more: "sA, sB and 3 more"."""
    items = [str(x) for x in items]
    return sep.join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def suggest(name: object, known: Iterable[object], *, what: str = "Known", otherwise: str | None = None,
            code: bool = False) -> str:
    """The hint for a name that is not one of ``known``: "Did you mean 'x'?" when one is close,
    else ``otherwise`` if given, else "<what>: a, b, c." ("<what>: none." when ``known`` is
    empty).  ``code`` quotes the name as `x` (YAML fields) instead of 'x' (values)."""
    names = [str(k) for k in known]
    near = closest(name, names)
    if near is not None:
        return f"Did you mean {f'`{near}`' if code else repr(near)}?"
    return otherwise if otherwise is not None else f"{what}: {', '.join(names) or 'none'}."


class QzoptError(Exception):
    """Base class of all errors qzopt reports to users."""

    exit_code = 2


@dataclass
class Problem:
    """One thing wrong with an input: where it is and what to do about it."""

    message: str
    file: str | None = None
    field: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f", line {self.line}"
        if self.field:
            where += f", field `{self.field}`"
        text = f"{where}: {self.message}"
        if self.hint:
            text += ("" if text.rstrip().endswith((".", ":", "?", "!")) else ".") + f" {self.hint}"
        return text


class ScenarioError(QzoptError):
    """A scenario (YAML or the tables it references) is invalid; carries one or more problems."""

    def __init__(self, problems: list[Problem] | Problem | str, file: str | Path | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, file=str(file) if file else None)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the scenario:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InfeasibleError(QzoptError):
    """A requirement provably cannot be met, where the caller needs a plan to go on (the fee
    frontier, cost sharing); the text says which.  CLI exit code 3, as for an infeasible solve."""

    exit_code = 3


class SolverError(QzoptError):
    """No back end in the fallback chain produced a usable answer where the caller needs one.
    CLI exit code 4, as for a solve no solver answered."""

    exit_code = 4
