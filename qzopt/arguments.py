"""Checks of the arguments of qzopt's public functions: one error class, one message form
("share(): territory 'Own': must be 'own' or 'all' (did you mean 'own'?)")."""

from __future__ import annotations

import numbers
import os
import reprlib
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from qzopt.errors import QzoptError, closest


class ArgumentError(QzoptError, ValueError, TypeError):
    """A public function was given an argument it cannot use.  The message names the function,
    the argument, the value and what it must be ("share(): territory 'Own': must be 'own' or
    'all' (did you mean 'own'?)").  It is a ValueError and a TypeError too, so code that caught
    what such calls raised before (``except ValueError``) still catches it."""


def bad_argument(function: str, name: str, value: object, problem: str) -> ArgumentError:
    """The :class:`ArgumentError` of ``function``'s argument ``name`` given ``value`` (shown
    shortened, as ``[1, 2, 3, 4, 5, 6, ...]``; not at all when it is ``...``): raise it."""
    if value is ...:
        return ArgumentError(f"{function}(): {name}: {problem}")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)  # the path as written, not PosixPath('...')
    elif isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()  # 3, not np.int64(3); a list, not an array over lines
    elif isinstance(value, pd.Series):
        value = value.to_dict()
    return ArgumentError(f"{function}(): {name} {_SHORT.repr(value)}: {problem}")


_SHORT = reprlib.Repr()  # a value as a message shows it: a path in full, a long list or table cut short
_SHORT.maxstring, _SHORT.maxother = 160, 80


def check_int(function: str, name: str, value: object, low: int, high: int | None = None,
              optional: bool = False, hint: str = "") -> int | None:
    """``value`` as an int when it is a whole number from ``low`` (to ``high``), else an
    :class:`ArgumentError`; None passes when ``optional``.  ``hint`` ends the message."""
    if value is None and optional:
        return None
    span = f"from {low:,} to {high:,}" if high is not None else f"{low:,} or more"
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole or value < low or (high is not None and value > high):
        kind = "" if whole else f", not {type(value).__name__}"
        raise bad_argument(function, name, value, f"must be a whole number {span}{kind}"
                           + (f" ({hint})" if hint else ""))
    return int(value)


def check_choice(function: str, name: str, value: object, choices: Iterable[str]) -> str:
    """``value`` when it is one of ``choices`` (exactly), else an :class:`ArgumentError` with the
    closest choice suggested."""
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    near = closest(value, choices) if isinstance(value, str) else None
    raise bad_argument(function, name, value, "must be " + " or ".join(map(repr, choices))
                       + (f" (did you mean {near!r}?)" if near else ""))


def check_path(function: str, name: str, value: object) -> Path:
    """``value`` (``str`` or ``os.PathLike``, not empty) as a :class:`~pathlib.Path`."""
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise bad_argument(function, name, value, "must be a path (str or pathlib.Path)"
                           + ("" if isinstance(value, (str, os.PathLike)) else f", not {type(value).__name__}"))
    return Path(value)


def output_folder(function: str, name: str, value: object) -> Path:
    """The folder ``value`` names (:func:`check_path`), created if missing; a file there or a
    folder that cannot be made is an :class:`ArgumentError` (not an OSError from ``mkdir``)."""
    out = check_path(function, name, value)
    problem = _make_folder(out)
    if problem:
        raise bad_argument(function, name, value, f"{problem}; name a folder to write into")
    return out


def writable_folder(path: str | os.PathLike, name: str, hint: str = "name a folder to write into") -> Path:
    """The folder ``path`` names, created if missing, for a command-line option or a setting
    (``name``: "-o", "--cache", "QZOPT_CACHE"); a file there, an empty path or a folder that cannot
    be made is a :class:`QzoptError` naming ``name`` and the path, ending with ``hint``."""
    if not os.fspath(path):  # Path("") would be the current folder: an empty $OUT in a script is a mistake
        raise QzoptError(f"{name} '': names no folder; {hint}")
    out = Path(path)
    problem = _make_folder(out)
    if problem:
        said = "that " + problem if problem.startswith("is a file") else problem  # "-o x: that is a file"
        raise QzoptError(f"{name} {out}: {said}; {hint}")
    return out


def _make_folder(path: Path) -> str | None:
    """Create the folder ``path`` and its parents when missing; what stops that, in words ("is a
    file, not a folder", "cannot create the folder (Permission denied)"), else None."""
    if path.exists() and not path.is_dir():
        return "is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the folder ({exc.strerror or exc})"
    return None
