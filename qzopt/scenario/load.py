"""YAML scenario file -> :class:`~qzopt.scenario.scenario.Scenario`, with errors a person can act on.

Every problem names the file, the field (``sites[3].sizes[0].capacity``), the line where YAML
gives it and what to do.  Problems are collected, not raised one at a time, so a user fixes a
file in one pass.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from qzopt.errors import Problem, ScenarioError
from qzopt.geo.distances import graph_distances, great_circle_km, road_graph
from qzopt.scenario import schema as S
from qzopt.scenario.scenario import Policy, Scenario, SolverSettings, Units
from qzopt.units import parse_distance, per_year_from_unit

Loc = tuple[Any, ...]


# ----------------------------------------------------------------------------- YAML
def _line_map(node: yaml.Node, path: Loc, out: dict[Loc, int], problems: list[Problem], file: str) -> None:
    """Record the 1-based line of every mapping key / sequence item; report duplicate keys."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(
                    f"key `{key}` appears twice (lines {seen[key]} and {line}); YAML would silently keep the last",
                    file=file, field=_dotted(path + (key,)), line=line, hint="Remove one of them."))
            seen[key] = line
            out[path + (key,)] = line
            _line_map(value_node, path + (key,), out, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _line_map(item, path + (i,), out, problems, file)


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    for k in range(len(loc), -1, -1):
        if loc[:k] in lines:
            return lines[loc[:k]]
    return None


def _clean_loc(loc: Loc) -> Loc:
    """Drop pydantic's union-branch tags (e.g. 'list[Site]', 'CsvRef', 'str') from an error location."""
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in str(p) and str(p) not in _UNION_TAGS))


_UNION_TAGS = {"CsvRef", "str", "bool", "float", "int", "list[SizeOption]", "function-after[_min_below_capacity(), SizeOption]"}


def _pydantic_problems(err: ValidationError, model: type[BaseModel], file: str,
                       lines: dict[Loc, int] | None = None, loc_prefix: Loc = (),
                       line_of_row: int | None = None) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for e in err.errors():
        loc = _clean_loc(loc_prefix + tuple(e["loc"]))
        kind = e["type"]
        if kind == "extra_forbidden":
            key = loc[-1]
            parent_fields = _fields_at(model, loc[len(loc_prefix):-1])
            close = difflib.get_close_matches(str(key), parent_fields, n=1)
            hint = f"Did you mean `{close[0]}`?" if close else (
                f"Known fields here: {', '.join(parent_fields)}." if parent_fields else None)
            msg = f"unknown field `{key}`"
        elif kind == "missing":
            msg, hint = "required field is missing", "Add it."
        else:
            msg = e["msg"].replace("Value error, ", "")
            if "input" in e and not isinstance(e["input"], (dict, list)):
                msg += f" (got {e['input']!r})"
            hint = None
        sig = (loc, msg)
        if sig in seen:
            continue
        seen.add(sig)
        line = line_of_row if line_of_row is not None else (_line_for(lines, loc) if lines else None)
        problems.append(Problem(msg, file=file, field=_dotted(loc), line=line, hint=hint))
    return _collapse_union_noise(problems)


def _collapse_union_noise(problems: list[Problem]) -> list[Problem]:
    """A field that may be a list *or* {csv: ...} yields errors for both; keep the list ones
    when the user wrote a list, i.e. drop 'Input should be a valid dictionary' duplicates."""
    fields_with_detail = {p.field for p in problems if "valid dictionary" not in p.message}
    out = []
    for p in problems:
        if "valid dictionary or instance of CsvRef" in p.message and any(
            f and p.field and f.startswith(p.field) and f != p.field for f in fields_with_detail
        ):
            continue
        out.append(p)
    return out


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the pydantic model found at ``loc`` (best effort, for suggestions)."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    found = _models_in(current)
    return list(found[0].model_fields) if found else []


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation) or ():
        out += _models_in(arg)
    return out


def _step(annotation: Any, part: Any) -> Any:
    """The annotation one level down ``part`` (a field name, a dict key or a list index)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        f = annotation.model_fields.get(str(part))
        return None if f is None else f.annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple) and args:
        return args[0] if isinstance(part, int) else None
    if origin is dict and len(args) == 2:
        return args[1]
    for arg in args:  # a union: the first branch that accepts the part
        nxt = _step(arg, part)
        if nxt is not None:
            return nxt
    return None


# ----------------------------------------------------------------------------- CSV
def _read_csv(base: Path, rel: str, field: str, file: str) -> tuple[pd.DataFrame, str]:
    path = (base / rel) if not Path(rel).is_absolute() else Path(rel)
    if not path.exists():
        raise ScenarioError(Problem(f"CSV file {rel!r} not found (looked for {path})", file=file, field=field,
                                    hint="Paths are relative to the scenario file."))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, comment=None)
    except Exception as exc:  # pandas raises many kinds
        raise ScenarioError(Problem(f"cannot read CSV {rel!r}: {exc}", file=file, field=field)) from None
    frame.columns = [c.strip() for c in frame.columns]
    return frame, str(path)


def _csv_rows(frame: pd.DataFrame, row_model: type[BaseModel], csv_file: str,
              problems: list[Problem], list_fields: tuple[str, ...] = ()) -> list[Any]:
    """Validate each CSV row with the same pydantic model as inline rows."""
    out = []
    known = set(row_model.model_fields)
    extra = [c for c in frame.columns if c not in known]
    if extra:
        close = {c: difflib.get_close_matches(c, list(known), n=1) for c in extra}
        for c in extra:
            hint = f"Did you mean `{close[c][0]}`?" if close[c] else f"Known columns: {', '.join(known)}."
            problems.append(Problem(f"unknown column `{c}`", file=csv_file, field=c, line=1, hint=hint))
        frame = frame[[c for c in frame.columns if c in known]]
    for k, row in enumerate(frame.to_dict("records")):
        data = {key: (None if val == "" else val) for key, val in row.items()}
        data = {key: val for key, val in data.items() if val is not None}
        try:
            out.append(row_model.model_validate(data))
        except ValidationError as err:
            problems.extend(_pydantic_problems(err, row_model, csv_file, line_of_row=k + 2))
    return out


# -------------------------------------------------------------------------- loader
def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario YAML file.

    Raises :class:`~qzopt.errors.ScenarioError` (never a bare exception) listing every
    problem with file, field, line and a hint.
    """
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise ScenarioError(Problem(f"scenario file not found: {path}", file=file,
                                    hint="Check the path; scenarios shipped with qzopt are in scenarios/."))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file)) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(Problem(f"malformed YAML: {problem}", file=file, line=line,
                                    hint="Check indentation and quoting around this line.")) from None
    if not isinstance(data, dict):
        raise ScenarioError(Problem("the file must be a YAML mapping (key: value lines) at the top level",
                                    file=file, line=1))
    problems: list[Problem] = []
    lines: dict[Loc, int] = {}
    _line_map(root, (), lines, problems, file)
    try:
        spec = S.ScenarioSpec.model_validate(data)
    except ValidationError as err:
        problems.extend(_pydantic_problems(err, S.ScenarioSpec, file, lines))
        raise ScenarioError(problems) from None
    if problems:
        raise ScenarioError(problems)
    return resolve(spec, base=path.parent, file=file, lines=lines)


def resolve(spec: S.ScenarioSpec, base: Path, file: str = "<scenario>",
            lines: dict[Loc, int] | None = None) -> Scenario:
    """Turn a validated :class:`ScenarioSpec` into a :class:`Scenario` (reads CSVs, distances)."""
    lines = lines or {}
    problems: list[Problem] = []

    def bad(msg: str, loc: Loc, hint: str | None = None, f: str | None = None, line: int | None = None) -> None:
        problems.append(Problem(msg, file=f or file, field=_dotted(loc),
                                line=line if line is not None else _line_for(lines, loc), hint=hint))

    def table(value: Any, row_model: type[BaseModel], name: str) -> tuple[list[Any], str]:
        if isinstance(value, S.CsvRef):
            frame, csv_file = _read_csv(base, value.csv, f"{name}.csv", file)
            absent = [c for c in list(value.rename) + value.ignore if c not in frame.columns]
            if absent:
                bad(f"columns {absent} named in rename/ignore are not in {value.csv}", (name,),
                    f"Columns present: {', '.join(frame.columns)}.")
            frame = frame.drop(columns=[c for c in value.ignore if c in frame.columns]).rename(columns=value.rename)
            return _csv_rows(frame, row_model, csv_file, problems), csv_file
        return list(value), file

    jur_rows, jur_file = table(spec.jurisdictions, S.Jurisdiction, "jurisdictions")
    dem_rows, dem_file = table(spec.demands, S.Demand, "demands")
    site_rows, site_file = table(spec.sites, S.Site, "sites")
    if problems:
        raise ScenarioError(problems)

    units = Units(spec.units.demand, spec.units.distance, spec.units.money,
                  spec.units.per_year or per_year_from_unit(spec.units.demand))

    jur = pd.DataFrame([{"id": r.id, "name": r.name or r.id, "group": r.group or r.id,
                         "lat": r.lat, "lon": r.lon, "node": r.node or r.id} for r in jur_rows]).set_index("id")
    jur[["lat", "lon"]] = jur[["lat", "lon"]].astype(float)
    if jur.index.duplicated().any():
        bad(f"duplicate jurisdiction ids {jur.index[jur.index.duplicated()].tolist()[:5]}", ("jurisdictions",),
            f=jur_file)

    def place(rows: list[Any], kind: str, fname: str) -> pd.DataFrame:
        recs = []
        for k, r in enumerate(rows):
            loc = (kind, k) if fname == file else (kind,)
            if r.jurisdiction not in jur.index:
                close = difflib.get_close_matches(r.jurisdiction, list(jur.index), n=1)
                bad(f"jurisdiction {r.jurisdiction!r} of {kind[:-1]} {r.id!r} does not exist", loc + ("jurisdiction",),
                    f"Did you mean {close[0]!r}?" if close else "Add it to `jurisdictions`.", f=fname,
                    line=None if fname == file else k + 2)
                continue
            j = jur.loc[r.jurisdiction]
            recs.append({"id": r.id, "name": r.name or r.id, "jurisdiction": r.jurisdiction,
                         "lat": r.lat if r.lat is not None else j["lat"],
                         "lon": r.lon if r.lon is not None else j["lon"],
                         "node": r.node or j["node"], **({"amount": r.amount} if kind == "demands" else {})})
        cols = ["id", "name", "jurisdiction", "lat", "lon", "node"] + (["amount"] if kind == "demands" else [])
        return pd.DataFrame(recs, columns=cols).set_index("id")

    demands = place(dem_rows, "demands", dem_file)
    sites = place(site_rows, "sites", site_file)
    for frame, kind, fname in ((demands, "demands", dem_file), (sites, "sites", site_file)):
        dup = frame.index[frame.index.duplicated()].unique().tolist()
        if dup:
            bad(f"duplicate {kind[:-1]} ids {dup[:5]}", (kind,), "Every id must be unique.", f=fname)
    if len(demands) == 0:
        bad("no demand points", ("demands",), "Give at least one demand point.")
    if len(sites) == 0:
        bad("no candidate sites", ("sites",), "Give at least one site.")

    # size options
    size_recs = []
    site_meta = {}
    for k, r in enumerate(site_rows):
        loc = ("sites", k) if site_file == file else ("sites",)
        csv_line = None if site_file == file else k + 2
        if isinstance(r.sizes, str):
            if r.sizes not in spec.sizes:
                close = difflib.get_close_matches(r.sizes, list(spec.sizes), n=1)
                bad(f"site {r.id!r} uses size set {r.sizes!r}, which is not defined under `sizes`",
                    loc + ("sizes",), f"Did you mean {close[0]!r}?" if close else
                    f"Defined sets: {', '.join(spec.sizes) or 'none'}.", f=site_file, line=csv_line)
                continue
            options = spec.sizes[r.sizes]
        else:
            options = r.sizes
        names = [o.name for o in options]
        existing = ""
        if r.existing is True or (isinstance(r.existing, str) and r.existing.lower() == "true"):
            if len(options) != 1:
                bad(f"site {r.id!r} is `existing: true` but has {len(options)} sizes ({', '.join(names)})",
                    loc + ("existing",), "Write the size it has, e.g. `existing: " + names[0] + "`.",
                    f=site_file, line=csv_line)
            existing = names[0]
        elif isinstance(r.existing, str) and r.existing.lower() not in ("false", ""):
            if r.existing not in names:
                bad(f"site {r.id!r} is existing at size {r.existing!r}, which is not one of {names}",
                    loc + ("existing",), f=site_file, line=csv_line)
            existing = r.existing
        site_meta[r.id] = (existing, bool(r.excluded))
        for o in options:
            size_recs.append({"site": r.id, "size": o.name,
                              "capacity": np.inf if o.capacity is None else o.capacity,
                              "capex": o.capex, "fixed_cost": o.fixed_cost, "unit_cost": o.unit_cost,
                              "min_load": o.min_load})
    sizes = pd.DataFrame(size_recs, columns=["site", "size", "capacity", "capex", "fixed_cost", "unit_cost", "min_load"])
    sites["existing"] = [site_meta.get(s, ("", False))[0] for s in sites.index]
    sites["excluded"] = [site_meta.get(s, ("", False))[1] for s in sites.index]
    if problems:
        raise ScenarioError(problems)

    # distances
    d = spec.distances
    adjacency: set[frozenset[str]] = set()
    graph = None
    if d.method == "great_circle":
        for frame, kind in ((demands, "demands"), (sites, "sites")):
            missing = frame.index[frame[["lat", "lon"]].isna().any(axis=1)].tolist()
            if missing:
                bad(f"great_circle distances need lat/lon; {kind} {missing[:5]} have none", (kind,),
                    "Give lat/lon on the row or on its jurisdiction, or use distances.method: road_graph.")
        if problems:
            raise ScenarioError(problems)
        if units.distance != "km":
            bad("great_circle distances are in km but units.distance is " + units.distance, ("distances", "method"),
                "Use units.distance: km, or give travel times as a road graph or matrix.")
            raise ScenarioError(problems)
        dist = great_circle_km(demands["lat"], demands["lon"], sites["lat"], sites["lon"]) * d.circuity
        same = demands["node"].to_numpy()[:, None] == sites["node"].to_numpy()[None, :]
        dist = np.where(same & (dist < d.within_node), d.within_node, dist)
    elif d.method == "road_graph":
        if not d.edges:
            bad("road_graph needs `edges` (a CSV with from,to,km)", ("distances", "edges"))
            raise ScenarioError(problems)
        edges, edges_file = _read_csv(base, d.edges, "distances.edges", file)
        weight = _distance_column(edges, units.distance, edges_file, problems)
        missing_cols = [c for c in ("from", "to") if c not in edges.columns]
        if missing_cols:
            problems.append(Problem(f"edge table lacks columns {missing_cols}", file=edges_file, line=1,
                                    hint="Columns needed: from, to, and km or min."))
        if problems:
            raise ScenarioError(problems)
        w = pd.to_numeric(edges[weight], errors="coerce")
        bad_rows = [int(k) + 2 for k in np.flatnonzero(~(w >= 0))]
        if bad_rows:
            problems.append(Problem(f"edge lengths must be numbers >= 0 (rows {bad_rows[:5]})",
                                    file=edges_file, field=weight, line=bad_rows[0]))
            raise ScenarioError(problems)
        edges = edges.assign(**{weight: w})
        graph = road_graph(edges, weight)
        for frame, kind in ((demands, "demands"), (sites, "sites")):
            unknown = sorted(set(frame["node"]) - set(graph.nodes))
            if unknown:
                bad(f"{kind} nodes {unknown[:5]} are not in the road graph {Path(d.edges).name}", (kind,),
                    "Every demand and site node (default: its jurisdiction id) needs a road.")
        if problems:
            raise ScenarioError(problems)
        dist = graph_distances(graph, demands["node"], sites["node"], d.within_node)
        node_to_jur = {row.node: jid for jid, row in jur.iterrows()}
        for a, b in graph.edges:
            ja, jb = node_to_jur.get(a), node_to_jur.get(b)
            if ja and jb and ja != jb:
                adjacency.add(frozenset((ja, jb)))
    else:
        if not d.matrix:
            bad("matrix distances need `matrix` (a CSV)", ("distances", "matrix"))
            raise ScenarioError(problems)
        dist = _matrix(base, d.matrix, "distances.matrix", file, demands.index, sites.index, problems)

    cost = None
    if spec.costs.matrix:
        cost = _matrix(base, spec.costs.matrix, "costs.matrix", file, demands.index, sites.index, problems)
        if cost is not None and spec.costs.matrix_per == "unit":
            cost = cost * demands["amount"].to_numpy(float)[:, None] * units.per_year
    if problems:
        raise ScenarioError(problems)

    c = spec.constraints
    max_distance = None
    if c.max_distance is not None:
        try:
            max_distance = parse_distance(c.max_distance, units.distance)
        except ValueError as exc:
            bad(str(exc), ("constraints", "max_distance"))
    if c.adjacency:
        adjacency = {frozenset(p) for p in c.adjacency}
    fc = c.facilities or S.FacilityCount()
    policy = Policy(
        serve_share=c.demand.serve,
        unserved_penalty=c.demand.penalty,
        single_sourcing=c.single_sourcing,
        max_distance=max_distance,
        facilities_exactly=fc.exactly,
        facilities_at_most=fc.at_most,
        facilities_at_least=fc.at_least,
        budget=c.budget,
        cross_border=c.cross_border,
        min_load=c.min_load,
        strong_linking=spec.formulation.strong_linking,
    )
    solver = SolverSettings(spec.solver.name, spec.solver.time_limit, spec.solver.gap,
                            tuple(spec.solver.fallback) if spec.solver.fallback is not None else None,
                            spec.solver.threads)
    if problems:
        raise ScenarioError(problems)
    sc = Scenario(
        name=spec.name, description=spec.description or "", sector=spec.sector, units=units,
        jurisdictions=jur, demands=demands, sites=sites, sizes=sizes, distance=dist, cost=cost,
        transport=spec.costs.transport, discount_rate=spec.costs.discount_rate,
        lifetime_years=spec.costs.lifetime_years, policy=policy, solver=solver,
        adjacency=frozenset(adjacency), source=Path(file) if file != "<scenario>" else None,
        extras={"graph": graph} if graph is not None else {},
    )
    sc.validate()
    return sc


def _distance_column(edges: pd.DataFrame, unit: str, edges_file: str, problems: list[Problem]) -> str:
    """The edge-length column matching ``units.distance``; a mismatch is an error, not a guess."""
    aliases = {"km": ("km", "length_km", "distance_km"), "min": ("min", "minutes", "time_min")}
    for col in aliases[unit]:
        if col in edges.columns:
            return col
    other = "min" if unit == "km" else "km"
    found = [c for c in aliases[other] if c in edges.columns]
    if found:
        problems.append(Problem(
            f"the edge table gives lengths in {other} (column `{found[0]}`) but units.distance is {unit}",
            file=edges_file, field=found[0], line=1,
            hint=f"Set units.distance: {other} in the scenario, or supply a `{unit}` column."))
    else:
        problems.append(Problem(f"the edge table has no `{unit}` column (columns: {list(edges.columns)})",
                                file=edges_file, line=1))
    return aliases[unit][0]


def _matrix(base: Path, rel: str, field: str, file: str, rows: pd.Index, cols: pd.Index,
            problems: list[Problem]) -> np.ndarray | None:
    frame, mfile = _read_csv(base, rel, field, file)
    frame = frame.set_index(frame.columns[0])
    missing_rows = [r for r in rows if r not in frame.index]
    missing_cols = [c for c in cols if c not in frame.columns]
    if missing_rows or missing_cols:
        problems.append(Problem(
            f"matrix lacks demand rows {missing_rows[:5]} / site columns {missing_cols[:5]}",
            file=mfile, field=field, line=1, hint="First column: demand id; one column per site id."))
        return None
    sub = frame.loc[rows, cols].replace({"inf": "inf", "": "inf"})
    values = sub.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        problems.append(Problem(f"not a number at demand {rows[r]!r}, site {cols[c]!r}", file=mfile, field=field,
                                hint="Use numbers; leave empty or write inf for 'no connection'."))
        return None
    return values
