"""What ``qzopt report`` and ``qzopt compare`` read and where they write.

- :func:`read_result`: a result directory (or its ``result.json``), refused with the file and the
  missing fields when it is not a complete result.
- :func:`read_frontier`, :func:`read_sharing`: the add-ons written by ``qzopt frontier -o DIR``
  and ``qzopt share -o DIR``, with the scenario they belong to; :func:`check_addons` refuses an
  add-on of another scenario (or sector).
- :func:`output_pair`: the rule for ``-o``.  ``-o x.html`` writes x.html and x.md, ``-o x.md``
  writes x.md and x.html, a directory (an existing one, one written with a trailing ``/`` or a
  name without a suffix) gets ``<stem>.html`` and ``<stem>.md`` inside it.  The two files never
  have the same name.
- :func:`write_report`: what ``qzopt report`` does, as one call.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from qzopt.errors import QzoptError
from qzopt.io.jsonfile import read_object

if TYPE_CHECKING:
    from qzopt.result import Result


def read_result(path: str | Path) -> "Result":
    """:meth:`Result.read` (which refuses a ``result.json`` lacking fields of a result by name),
    with any other malformed content refused as a QzoptError naming the file."""
    from qzopt.result import Result

    try:
        return Result.read(path)
    except (TypeError, ValueError, KeyError) as exc:
        file = Path(path) / "result.json" if Path(path).is_dir() else Path(path)
        raise QzoptError(f"{file}: not a qzopt result.json ({exc})") from None


# ------------------------------------------------------------------------ add-ons
def addon_folder(path: str | Path, name: str) -> Path:
    """The folder of an add-on file ``name`` (``frontier.csv``, ``sharing.json``): ``path`` itself,
    or its folder when ``path`` names that file."""
    path = Path(path)
    return path.parent if path.name == name and path.is_file() else path


#: Columns of a ``frontier.csv`` that the reports read.
FRONTIER_COLUMNS = ("point", "fee_cap", "fee", "total_cost_per_yr", "price_of_equalization_per_yr")


def read_frontier(folder: str | Path) -> pd.DataFrame:
    """``frontier.csv`` of ``qzopt frontier -o DIR``; ``attrs`` carry the scenario and sector named
    in ``frontier.md`` (its title and its "Sector: ..." line) and the file read.  A file that is
    not one (unreadable, no rows, lacking :data:`FRONTIER_COLUMNS`) is refused naming it."""
    folder = addon_folder(folder, "frontier.csv")
    file = folder / "frontier.csv"
    try:
        table = pd.read_csv(file)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise QzoptError(f"{file}: not a qzopt frontier.csv ({exc})") from None
    lacking = [c for c in FRONTIER_COLUMNS if c not in table.columns]
    if lacking or table.empty:
        raise QzoptError(f"{file}: not a qzopt frontier.csv ("
                         + (f"no column(s) {', '.join(lacking)}" if lacking else "no rows")
                         + "); write it again with `qzopt frontier SCENARIO -o DIR`")
    table.attrs["source"] = str(folder / "frontier.csv")
    md_file = folder / "frontier.md"
    if md_file.is_file():
        head = md_file.read_text(encoding="utf-8").splitlines()[:3]
        if head and head[0].startswith("# Fee frontier:"):
            table.attrs["scenario"] = head[0].split(":", 1)[1].strip()
        sector = re.match(r"Sector: (\w+)\.", head[2]) if len(head) > 2 else None
        if sector:
            table.attrs["sector"] = sector.group(1)
        digest = re.search(re.escape(FRONTIER_DIGEST) + r": (\w+)\.", head[2]) if len(head) > 2 else None
        if digest:
            table.attrs["scenario_digest"] = digest.group(1)
        changed = re.search(r"Changed for this run \(--set\): (.*)\.$", head[2]) if len(head) > 2 else None
        table.attrs["overrides"] = changed.group(1) if changed else "none"
    return table


#: How ``frontier.md`` names the digest of its scenario without fee rules (:meth:`Scenario.digest`).
FRONTIER_DIGEST = "Scenario digest without fee rules"


def read_sharing(folder: str | Path) -> dict:
    """``sharing.json`` of ``qzopt share -o DIR`` (NaN and Infinity allowed), with ``_source``;
    ``folder`` may name the file itself."""
    file = addon_folder(folder, "sharing.json") / "sharing.json"
    doc = read_object(file, "qzopt sharing.json")

    def rows(v: Any) -> bool:  # a list of JSON objects, or absent
        return v is None or (isinstance(v, list) and all(isinstance(r, dict) for r in v))

    tables = doc.get("tables")
    shape = {"allocations": ("a list of objects (one per player)", rows(doc.get("allocations"))),
             "coalitions": ("a list of objects", rows(doc.get("coalitions"))),
             "tables": ("an object of lists of objects (one per method)",
                        tables is None or (isinstance(tables, dict) and all(rows(v) for v in tables.values())))}
    for key, (what, ok) in shape.items():
        if not ok:
            raise QzoptError(f"{file}: not a qzopt sharing.json (`{key}` must be {what}); write it again with "
                             "`qzopt share SCENARIO -o DIR`")
    doc["_source"] = str(file)
    return doc


def _addon_facts(addon: Any) -> tuple[str | None, str | None, str]:
    if isinstance(addon, pd.DataFrame):
        return addon.attrs.get("scenario"), addon.attrs.get("sector"), addon.attrs.get("source", "the fee frontier")
    return addon.get("scenario"), addon.get("sector"), addon.get("_source", "the cost sharing")


def _addon_version(addon: Any) -> tuple[str | None, str, str]:
    """(the add-on's scenario digest or None, which digest of a result it compares with, what
    ``--set`` changed for it, in words)."""
    if isinstance(addon, pd.DataFrame):  # a frontier: of the scenario whatever its fee rules
        return addon.attrs.get("scenario_digest"), "without_fees", addon.attrs.get("overrides", "none")
    from qzopt.report.markdown import overrides_line

    return addon.get("scenario_digest") or None, "with_fees", overrides_line(addon.get("overrides")) or "none"


def check_addons(res: "Result", frontier: pd.DataFrame | None = None, sharing: dict | None = None) -> None:
    """Refuse a frontier or a sharing of another scenario or sector than ``res``, or of another
    version of it (the file edited, or other ``--set`` changes: their scenario digests differ; a
    frontier's leaves the fee rules out).  An add-on or a result that does not record which
    scenario it is of is taken as it is."""
    from qzopt.report.markdown import overrides_text

    for what, addon in (("fee frontier", frontier), ("cost sharing", sharing)):
        if addon is None:
            continue
        scenario, sector, source = _addon_facts(addon)
        if scenario is not None and scenario != res.scenario:
            raise QzoptError(f"{source}: the {what} is of scenario {scenario!r}, the result of scenario "
                             f"{res.scenario!r}: add the {what} of the same scenario (or leave it out)")
        if sector is not None and sector != res.sector:
            raise QzoptError(f"{source}: the {what} is of a {sector!r} scenario, the result of a {res.sector!r} "
                             f"scenario ({res.scenario!r}): add the {what} of the same scenario (or leave it out)")
        digest, kind, changed = _addon_version(addon)
        mine = (res.extra.get("scenario_digest") or {}).get(kind) if isinstance(res.extra.get("scenario_digest"),
                                                                                dict) else None
        if digest and mine and digest != mine:
            scope = " (fee rules aside)" if kind == "without_fees" else ""
            raise QzoptError(f"{source}: the {what} is of another version of scenario {res.scenario!r} than the "
                             f"result{scope}: the scenario's data or settings differ (changed with --set: for the "
                             f"{what} {changed}; for the result {overrides_text(res)}): compute both from the same "
                             "file with the same --set changes (or leave it out)")


def read_extras(outdir: str | Path) -> tuple[pd.DataFrame | None, dict | None]:
    """A ``frontier.csv`` and a ``sharing.json`` found in ``outdir`` (or None)."""
    outdir = Path(outdir)
    frontier = read_frontier(outdir) if (outdir / "frontier.csv").is_file() else None
    sharing = read_sharing(outdir) if (outdir / "sharing.json").is_file() else None
    return frontier, sharing


# ------------------------------------------------------------------------ output
def output_pair(output: str | Path | None, default_dir: str | Path, stem: str) -> tuple[Path, Path]:
    """(HTML path, Markdown path) for ``-o output``; see the module text for the rule."""
    if output is None or str(output) == "":
        folder = Path(default_dir)
        return folder / f"{stem}.html", folder / f"{stem}.md"
    text = str(output)
    path = Path(output)
    suffix = path.suffix.lower()
    if path.is_dir() or text.endswith(("/", os.sep)) or (not suffix and not path.exists()):
        return path / f"{stem}.html", path / f"{stem}.md"
    if path.exists() and not path.is_file():
        raise QzoptError(f"-o {output}: exists and is neither a file nor a directory")
    if suffix in (".html", ".htm"):
        return path, path.with_suffix(".md")
    if suffix == ".md":
        return path.with_suffix(".html"), path
    raise QzoptError(f"-o {output}: give an .html or .md file (the other one is written beside it) "
                     f"or a directory (it gets {stem}.html and {stem}.md)")


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (folders created); a path that cannot be written is a QzoptError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise QzoptError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    return path


class Written(NamedTuple):
    html: Path
    md: Path
    extras: list[str]  # "fee frontier", "cost sharing": what the report added


def write_report(result: str | Path, frontier: str | Path | None = None, sharing: str | Path | None = None,
                 output: str | Path | None = None) -> Written:
    """``qzopt report RESULT [--frontier DIR] [--sharing DIR] [-o OUT]``: read the result (and a
    ``frontier.csv`` / ``sharing.json`` in its directory or in the directories given), check that
    they are of one scenario, and write ``report.html`` and ``report.md`` (see :func:`output_pair`)."""
    from qzopt.report.html import render_html
    from qzopt.report.markdown import render_markdown

    res = read_result(result)
    folder = Path(result) if Path(result).is_dir() else Path(result).parent
    found_frontier, found_sharing = read_extras(folder)
    for option, given in (("frontier", frontier), ("sharing", sharing)):
        if given is None:
            continue
        name = "frontier.csv" if option == "frontier" else "sharing.json"
        given = addon_folder(given, name)
        if not (given / name).is_file():
            command = "frontier" if option == "frontier" else "share"
            raise QzoptError(f"--{option} {given}: no {name} there (write it with `qzopt {command} SCENARIO -o {given}`)")
        if option == "frontier":
            found_frontier = read_frontier(given)
        else:
            found_sharing = read_sharing(given)
    html_path, md_path = output_pair(output, folder, "report")
    page = render_html(res, frontier=found_frontier, sharing=found_sharing)  # refuses a foreign add-on (check_addons)
    text = render_markdown(res, frontier=found_frontier, sharing=found_sharing)
    write_text(html_path, page)
    write_text(md_path, text)
    extras = [n for n, v in (("fee frontier", found_frontier), ("cost sharing", found_sharing)) if v is not None]
    return Written(html_path, md_path, extras)


def finite(x: Any) -> float | None:
    """``x`` as a finite float, else None (None, NaN, ±inf, text)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
