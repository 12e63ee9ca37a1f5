"""The outcome of a solve: status and the numbers that qualify it, plus tables.

``result.json`` is a contract other tools rely on: the fields written by :meth:`Result.to_dict`
are only ever added to, never renamed.
"""

from __future__ import annotations

import dataclasses

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1

#: Attributes of a :class:`Result` built on first use when it has a ``tables`` loader.
_LAZY = ("facilities", "assignments", "demands", "extra")


@dataclass
class Result:
    """What :func:`qzopt.solve` returns.

    ``objective`` and ``bound`` are money per year (``units['money']``); ``gap`` is relative;
    ``seconds`` is the wall-clock time of the solve (all back ends tried), ``build_seconds`` the
    time to build the model.  Tables are pandas DataFrames.

    With ``tables`` (what :func:`qzopt.solve` passes) the tables - ``facilities``,
    ``assignments``, ``demands`` and the table entries of ``extra`` - are built from the solution
    on first use, once: a sweep that reads only objectives does not pay for them (cap41: ~17 ms of
    a ~40 ms solve).  ``tables()`` returns (facilities, assignments, demands, extra entries); the
    ``extra`` given to the constructor is kept and wins over the entries of the same name.
    """

    scenario: str
    sector: str
    status: str  # optimal | feasible | infeasible | error
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    seconds: float
    build_seconds: float
    fallbacks: list[dict[str, Any]]
    facilities: pd.DataFrame
    assignments: pd.DataFrame
    demands: pd.DataFrame
    units: dict[str, Any]
    termination: str = ""
    message: str = ""
    explanation: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    model_size: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    tables: Callable[[], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]] | None = field(
        default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tables is not None:  # the lazy attributes are looked up through __getattr__
            self.__dict__["_given_extra"] = self.__dict__.pop("extra")
            for name in _LAZY[:3]:
                self.__dict__.pop(name)

    def __getattr__(self, name: str) -> Any:  # only called for attributes not yet set
        if name in _LAZY and self.__dict__.get("tables") is not None:
            self._load_tables()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _load_tables(self) -> None:
        facilities, assignments, demands, entries = self.tables()
        self.__dict__.update(facilities=facilities, assignments=assignments, demands=demands,
                             extra={**entries, **self.__dict__.pop("_given_extra")}, tables=None)

    def __getstate__(self) -> dict[str, Any]:  # pickled with its tables (a loader does not pickle)
        if self.__dict__.get("tables") is not None:
            self._load_tables()
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def distance_unit(self) -> str:
        """The unit of every distance in the tables ("km", "min" of travel time, or "cost")."""
        return str(self.units.get("distance", ""))

    @property
    def ok(self) -> bool:
        """True when there is a solution to read (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    @property
    def open_sites(self) -> pd.DataFrame:
        """The facilities table restricted to open sites."""
        if self.facilities.empty:
            return self.facilities
        return self.facilities[self.facilities["open"]]

    @property
    def jurisdictions(self) -> pd.DataFrame:
        """Per jurisdiction: demand, served, sites, mean distance and service cost (money/yr)."""
        value = self.extra.get("jurisdictions")
        return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value or [])

    def cost_breakdown(self) -> dict[str, float]:
        """Money per year by kind (capital, operating, revenue, transport, unserved); sums to the objective."""
        if "cost_breakdown" in self.extra:
            return dict(self.extra["cost_breakdown"])
        f = self.facilities
        if f.empty:
            return {}
        out = {
            "fixed": float(f["fixed_cost_per_yr"].sum()),
            "variable": float(f["variable_cost_per_yr"].sum()),
            "transport": float(f["transport_cost_per_yr"].sum()),
        }
        if "unserved_cost_per_yr" in self.extra:
            out["unserved"] = float(self.extra["unserved_cost_per_yr"])
        return out

    # ----------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """The ``result.json`` document (plain JSON types)."""
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "sector": self.sector,
            "status": self.status,
            "termination": self.termination,
            "objective": _num(self.objective),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "solver": self.solver,
            "seconds": round(self.seconds, 4),
            "build_seconds": round(self.build_seconds, 4),
            "fallbacks": self.fallbacks,
            "message": self.message,
            "explanation": self.explanation,
            "options": self.options,
            "model_size": self.model_size,
            "distance_unit": self.distance_unit,
            "demand_unit": self.units.get("demand"),
            "money_unit": self.units.get("money"),
            "demand_periods_per_year": self.units.get("per_year"),
            "objective_unit": f"{self.units.get('money')}/yr",
            "cost_breakdown": self.cost_breakdown(),
            "demands": _records(self.demands),
            "facilities": _records(self.facilities),
            "assignments": _records(self.assignments),
            # the tables' columns, so that an empty table (a result without a plan) reads back with them
            "columns": {k: [str(c) for c in getattr(self, k).columns]
                        for k in ("demands", "facilities", "assignments", "jurisdictions")},
        }
        for key, value in self.extra.items():
            doc.setdefault(key, _plain(value))
        return doc

    def to_json(self, indent: int | None = 2) -> str:
        """The result as result.json holds it (:meth:`to_dict`; strict JSON: no NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def write(self, outdir: str | Path, html: bool = True) -> Path:
        """Write ``result.json``, ``facilities.csv``, ``assignments.csv``, ``demands.csv``,
        ``jurisdictions.csv``, the tables of further streams and echelons (:meth:`section_tables`),
        ``report.md`` and (``html``) the self-contained ``report.html`` into ``outdir`` (created if
        needed; without ``html`` an older ``report.html`` there is removed); returns the directory."""
        from qzopt.arguments import output_folder
        from qzopt.report.markdown import render_markdown

        out = output_folder("Result.write", "outdir", outdir)
        sections = self.section_tables()
        for name in _section_files(out / "result.json"):  # an earlier result's stream and echelon tables
            if name not in sections:
                (out / name).unlink(missing_ok=True)
        (out / "result.json").write_text(self.to_json(), encoding="utf-8")
        self.facilities.to_csv(out / "facilities.csv", index=False)
        self.assignments.to_csv(out / "assignments.csv", index=False)
        self.demands.to_csv(out / "demands.csv", index=False)
        if len(self.jurisdictions.columns):  # a result.json of before 2026-12-01 without a plan has none to give
            self.jurisdictions.to_csv(out / "jurisdictions.csv", index=False)
        else:
            (out / "jurisdictions.csv").unlink(missing_ok=True)
        for name, table in sections.items():
            table.to_csv(out / name, index=False)
        (out / "report.md").write_text(render_markdown(self), encoding="utf-8")
        if html:
            from qzopt.report.html import render_html

            (out / "report.html").write_text(render_html(self), encoding="utf-8")
        else:  # a report.html of an earlier run must not stand beside this result
            (out / "report.html").unlink(missing_ok=True)
        return out

    def section_tables(self) -> dict[str, pd.DataFrame]:
        """The tables of further streams and second echelons by the CSV file :meth:`write` gives
        them: ``kitchen-facilities.csv`` (a stream's facilities, assignments, demands and
        jurisdictions), ``sludge-flows.csv`` (an echelon's flows; ``sludge-facilities.csv`` its
        sites when they have costs of their own)."""
        return {name: table for name, table in _section_parts(self.extra) if isinstance(table, pd.DataFrame)}

    @classmethod
    def required_fields(cls) -> list[str]:
        """Fields of ``result.json`` a Result cannot be built without (the tables and units have
        defaults when read)."""
        filled_by_read = {"facilities", "assignments", "demands", "units"}
        return [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                and f.name not in filled_by_read]

    @classmethod
    def read(cls, path: str | Path) -> "Result":
        """Load a result written by :meth:`write` (a directory or its result.json)."""
        from qzopt.arguments import check_path
        from qzopt.errors import QzoptError
        from qzopt.io.jsonfile import read_object

        path = check_path("Result.read", "path", path)
        if path.is_dir():
            path = path / "result.json"
        if not path.exists():
            raise QzoptError(f"{path}: not found; a result directory is what `qzopt solve SCENARIO -o DIR` writes "
                             "(it holds result.json)")
        doc = read_object(path, "qzopt result.json")
        lacking = [f for f in ("status", "facilities") if f not in doc]
        if lacking:
            raise QzoptError(f"{path}: not a qzopt result.json (no {' or '.join(lacking)} field)")
        missing = [f for f in cls.required_fields() if f not in doc]
        if missing:
            raise QzoptError(f"{path}: not a complete qzopt result.json: missing field(s) {', '.join(missing)} "
                             "(a result directory is what `qzopt solve SCENARIO -o DIR` writes)")
        known = {"scenario", "sector", "status", "objective", "bound", "gap", "solver", "seconds", "build_seconds",
                 "fallbacks", "termination", "message", "explanation", "options", "model_size"}
        columns = doc.get("columns") if isinstance(doc.get("columns"), dict) else {}
        tables = {k: pd.DataFrame(doc.get(k, []), columns=columns.get(k)) for k in ("facilities", "assignments",
                                                                                 "demands")}
        units = {"distance": doc.get("distance_unit"), "demand": doc.get("demand_unit"), "money": doc.get("money_unit"),
                 "per_year": doc.get("demand_periods_per_year")}
        skip = known | set(tables) | {"schema_version", "distance_unit", "demand_unit", "money_unit",
                                      "demand_periods_per_year", "objective_unit", "columns"}
        extra = {k: v for k, v in doc.items() if k not in skip}
        if "jurisdictions" in columns and isinstance(extra.get("jurisdictions"), list):  # with its columns, if empty
            extra["jurisdictions"] = pd.DataFrame(extra["jurisdictions"], columns=columns["jurisdictions"])
        # the tables inside sections come back as DataFrames, as qzopt.solve returns them
        for section in ("streams", "echelons"):
            for part in (extra.get(section) or {}).values():
                if isinstance(part, dict):
                    part.update({k: pd.DataFrame(v) for k, v in part.items() if _is_table(v)})
        if isinstance(extra.get("fees"), dict):
            extra["fees"].update({k: pd.DataFrame(v) for k, v in extra["fees"].items()
                                  if k in ("plants", "payers") and _is_table(v)})
        return cls(**{k: doc.get(k) for k in known if k in doc}, units=units, extra=extra, **tables)


def _is_table(value: Any) -> bool:
    """A list of row dicts (how result.json holds a table)."""
    return isinstance(value, list) and all(isinstance(r, dict) for r in value)


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _plain(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return _records(value)
    if isinstance(value, pd.Series):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _num(float(value))
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _section_files(result_json: Path) -> list[str]:
    """The stream and echelon CSV files (:meth:`Result.section_tables`) that the result in
    ``result_json`` wrote, from its ``streams`` and ``echelons`` entries; none when there is no
    readable result there."""
    try:
        doc = json.loads(result_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [name for name, table in _section_parts(doc) if isinstance(table, list)] if isinstance(doc, dict) else []


def _section_parts(extra: dict) -> list[tuple[str, Any]]:
    """Every entry of a stream or echelon section (``streams``, ``echelons`` of a result's extra
    or of its result.json) with the CSV file name :meth:`Result.write` gives it (``sludge-flows.csv``)."""
    return [(f"{name}-{kind}.csv", table)
            for section in ("streams", "echelons")
            for name, part in ((extra.get(section) or {}).items() if isinstance(extra.get(section), dict) else ())
            for kind, table in (part.items() if isinstance(part, dict) else ())]
