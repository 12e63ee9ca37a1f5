"""Reading back the JSON files qzopt writes (result.json, sharing.json)."""

from __future__ import annotations

import json
from pathlib import Path

from qzopt.errors import QzoptError


def read_object(path: Path, what: str) -> dict:
    """The JSON object stored in ``path``.

    ``what`` names the file for the user, e.g. ``"qzopt result.json"``.  Raises a
    :class:`~qzopt.errors.QzoptError` naming ``path`` when the file cannot be read, is not JSON
    (NaN and Infinity are accepted, as qzopt writes them) or holds something other than an object.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise QzoptError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise QzoptError(f"{path}: not a {what} ({exc})") from None
    if not isinstance(doc, dict):
        raise QzoptError(f"{path}: not a {what} (not a JSON object)")
    return doc
