"""Errors a user can act on.

Every error that reaches the command line is a :class:`QzoptError`; the CLI prints its text and
exits with code 2, without a traceback.  :class:`ScenarioError` names the file, the field (and
the line where YAML gives it) and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    """Raised by pre-solve checks when a requirement provably cannot be met."""


class SolverError(QzoptError):
    """No back end in the fallback chain produced a usable answer."""
