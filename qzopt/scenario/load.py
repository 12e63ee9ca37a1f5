"""YAML scenario file -> :class:`~qzopt.scenario.scenario.Scenario`, with errors a person can act on.

Every problem names the file, the field (``sites[3].sizes[0].capacity``), the line where YAML
gives it and what to do.  Problems are collected, not raised one at a time, so a user fixes a
file in one pass.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import typing
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from qzopt.errors import Problem, ScenarioError, closest, few, suggest
from qzopt.geo.distances import graph_distances, great_circle_km, road_graph
from qzopt.scenario import schema as S
from qzopt.scenario.scenario import (FeeRules, Policy, Scenario, SolverSettings, Units, existing_size,
                                     per_year_problem)
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
    """The line of ``loc`` in the YAML file, or of the nearest block above it that the file has;
    None when it has none of them (a field the file leaves out is named, not placed at line 1)."""
    for k in range(len(loc), 0, -1):
        if loc[:k] in lines:
            return lines[loc[:k]]
    return None


def _clean_loc(loc: Loc, data: Any = None) -> Loc:
    """Drop pydantic's union-branch tags (e.g. 'list[Site]', 'CsvRef', 'str') from an error location.

    With the validated ``data`` at hand, a part that is a key (or index) there is the user's,
    whatever it is called (a key ``str`` or ``a[0]``); only parts that are not are tested for
    looking like a tag.
    """
    out: list = []
    node = data
    for p in loc:
        if isinstance(node, dict) and p in node:
            out.append(p)
            node = node[p]
        elif isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node):
            out.append(p)
            node = node[p]
        elif isinstance(p, int) or ("[" not in str(p) and str(p) not in _UNION_TAGS):
            out.append(p)
            node = None
    return tuple(out)


_UNION_TAGS = {"CsvRef", "str", "bool", "float", "int", "list[SizeOption]", "function-after[_min_below_capacity(), SizeOption]"}


def _pydantic_problems(err: ValidationError, model: type[BaseModel], file: str,
                       lines: dict[Loc, int] | None = None, loc_prefix: Loc = (),
                       line_of_row: int | None = None, data: Any = None) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for e in err.errors():
        loc = loc_prefix + _clean_loc(tuple(e["loc"]), data)
        kind = e["type"]
        if kind == "extra_forbidden":
            key = loc[-1]
            parent_fields = _fields_at(model, loc[len(loc_prefix):-1])
            hint = suggest(key, parent_fields, what="Known fields here", code=True) if parent_fields else None
            msg = f"unknown field `{key}`"
        elif kind == "missing":
            msg, hint = "required field is missing", "Add it."
        else:
            msg = e["msg"].replace("Value error, ", "")
            if "input" in e and not isinstance(e["input"], (dict, list)):
                msg += f" (got {e['input']!r})"
            hint = None
            if "instance of SizeOption" in msg and isinstance(e.get("input"), str):
                hint = f"A size set is named without a list: sizes: {e['input']}."
            hint = hint or sexagesimal_hint(e.get("input"))
        sig = (loc, msg)
        if sig in seen:
            continue
        seen.add(sig)
        line = line_of_row if line_of_row is not None else (_line_for(lines, loc) if lines else None)
        problems.append(Problem(msg, file=file, field=_dotted(loc), line=line, hint=hint))
    return _collapse_union_noise(problems)


_SEXAGESIMAL = re.compile(r"[-+]?\d+(:\d+)+(\.\d*)?")


def sexagesimal_hint(value: Any) -> str | None:
    """The hint for a refused value like ``1:30``, which YAML 1.1 would read as 90 (base 60) and
    qzopt reads as text (YAML 1.2): None for any other value."""
    if isinstance(value, str) and _SEXAGESIMAL.fullmatch(value.strip()):
        return "Write a time as a decimal number (1:30 h -> 1.5); YAML 1.1 would read 1:30 as 90 (base 60)."
    return None


#: What pydantic says for the branch of a union the user did not write (a list *or* {csv: ...}; a
#: size-set name *or* a list of sizes).
_OTHER_BRANCH = ("valid dictionary or instance of CsvRef", "Input should be a valid string",
                 "Input should be a valid list", "Input should be a valid dictionary")


def _collapse_union_noise(problems: list[Problem]) -> list[Problem]:
    """A field that may take two forms yields errors for both; when the user's form has its own
    problem deeper down (``sizes[0].capacity``) or at the field itself (``max_length: null``:
    "a valid number"), drop the other form's ("a valid string")."""
    def other(p: Problem) -> bool:
        return any(b in p.message for b in _OTHER_BRANCH)

    fields = [p.field for p in problems if p.field and not other(p)]
    return [p for p in problems
            if not (p.field and other(p) and any(f == p.field or _within(f, p.field) for f in fields))]


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
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(Problem(f"cannot read CSV {rel!r}: {exc.strerror}", file=file, field=field)) from None
    text = _csv_text(raw, rel, str(path), field)
    header = text.split("\n", 1)[0]
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if sep in header and "," not in header:
            raise ScenarioError(Problem(
                f"CSV {rel!r} separates its columns with {name}, not commas (header: {header.strip()[:80]!r})",
                file=str(path), field=field, line=1,
                hint="Save it with commas: in Excel, Save As > 'CSV UTF-8 (Comma delimited)' (a semicolon "
                     "list separator comes from the system's regional settings)."))
    try:
        names = [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]
    except csv.Error:
        names = []  # pandas names what it cannot read
    twice = S.repeated([c for c in names if c])  # empty names (trailing commas) are pandas' "Unnamed: k"
    if twice:  # pandas would rename the second to 'x.1', and a table or matrix would drop it as extra
        where = [k + 1 for k, c in enumerate(names) if c == twice[0]]
        raise ScenarioError(Problem(
            f"CSV {rel!r} has the column {twice[0]!r} more than once (columns {where})"
            + (f"; also {few(twice[1:])}" if len(twice) > 1 else ""),
            file=str(path), field=field, line=1, hint="Give every column once: delete or rename the other."))
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, comment=None)
    except Exception as exc:  # pandas raises many kinds
        raise ScenarioError(Problem(f"cannot read CSV {rel!r}: {exc}", file=file, field=field)) from None
    frame.columns = [c.strip() for c in frame.columns]
    return frame, str(path)


def _csv_text(raw: bytes, rel: str, csv_file: str, field: str) -> str:
    """The CSV's text; a file that is not UTF-8 is named with the encoding it looks like."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        guess, where = "UTF-16 (Excel's 'Unicode Text')", None
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            where = raw[:exc.start].count(b"\n") + 1
            if raw[:200].count(b"\x00") > 10:
                guess = "UTF-16"
            else:
                try:
                    raw.decode("gb18030")
                    guess = "GBK/GB18030 (the Chinese Windows default)"
                except UnicodeDecodeError:
                    guess = None
    raise ScenarioError(Problem(
        f"CSV {rel!r} is not UTF-8 text" + (f"; it looks like {guess}" if guess else ""),
        file=csv_file, field=field, line=where,
        hint="Save it as UTF-8: in Excel, Save As > 'CSV UTF-8 (Comma delimited)'; or convert it, e.g. "
             "`iconv -f GB18030 -t UTF-8`."))


def _csv_rows(frame: pd.DataFrame, row_model: type[BaseModel], csv_file: str,
              problems: list[Problem], list_fields: tuple[str, ...] = ()) -> list[Any]:
    """Validate each CSV row with the same pydantic model as inline rows."""
    out = []
    known = list(row_model.model_fields)
    extra = [c for c in frame.columns if c not in known]
    if extra:
        for c in extra:
            problems.append(Problem(f"unknown column `{c}`", file=csv_file, field=c, line=1,
                                    hint=suggest(c, known, what="Known columns", code=True)))
        frame = frame[[c for c in frame.columns if c in known]]
    for k, row in enumerate(frame.to_dict("records")):
        data = {key: (None if val == "" else val) for key, val in row.items()}
        data = {key: val for key, val in data.items() if val is not None}
        try:
            out.append(row_model.model_validate(data))
        except ValidationError as err:
            problems.extend(_pydantic_problems(err, row_model, csv_file, line_of_row=k + 2, data=data))
    return out


# -------------------------------------------------------------------------- loader
class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader without YAML 1.1's base-60 and leading-zero octal numbers:
    ``max_hours: 1:30`` was the integer 90 and ``capacity: 0400`` was 256.  Such values now stay
    text, so a number field names them and an id keeps them as written (YAML 1.2 reads them so)."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"))
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
                                          r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                                          r"|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, validate and resolve a scenario YAML file.

    ``overrides`` maps dotted field paths to values (``{"fees.mode": "none", "solver.gap":
    0.01}``) set before validation, for "what if" runs without editing the file; a string value
    is read as YAML (``"80"`` is a number, ``"null"`` is nothing).

    Raises :class:`~qzopt.errors.ScenarioError` (never a bare exception) listing every
    problem with file, field, line and a hint.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError(Problem(f"the scenario must be the path of a YAML file, not {type(path).__name__}"))
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ScenarioError(Problem(f"overrides must be a mapping such as {{'fees.mode': 'none'}}, not "
                                    f"{type(overrides).__name__}", file=str(path)))
    if not os.fspath(path).strip():  # Path("") is the current folder: "'.' is a folder" would puzzle
        raise ScenarioError(Problem("the scenario path is empty", hint="Name a scenario YAML file, e.g. "
                                    "scenarios/qianzhong-msw.yaml."))
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise ScenarioError(Problem(f"scenario file not found: {path}", file=file,
                                    hint="Check the path; scenarios shipped with qzopt are in scenarios/."))
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.y*ml"))
        raise ScenarioError(Problem(f"{path} is a folder, not a scenario file", file=file,
                                    hint=f"Name one of its YAML files: {', '.join(found[:8])}." if found
                                    else "Name a scenario YAML file."))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file)) from None
    except OSError as exc:
        raise ScenarioError(Problem(f"cannot read the scenario file: {exc.strerror}", file=file)) from None
    try:
        root = yaml.compose(text, Loader=YamlLoader)
        data = yaml.load(text, Loader=YamlLoader)
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
    if overrides:
        data = _unshared(data)  # a YAML alias is one object: --set on it would change every place using it
        _no_child_overridden_later(overrides, file)
    for key, value in (overrides or {}).items():
        apply_override(data, key, value, file)
    try:
        spec = S.ScenarioSpec.model_validate(data)
    except ValidationError as err:
        problems.extend(_from_overrides(_pydantic_problems(err, S.ScenarioSpec, file, lines, data=data),
                                        overrides or {}))
        raise ScenarioError(problems) from None
    if problems:
        raise ScenarioError(problems)
    try:
        sc = resolve(spec, base=path.parent, file=file, lines=lines)
    except ScenarioError as err:
        if not overrides:
            raise
        raise ScenarioError(_from_overrides(err.problems, overrides)) from None
    if overrides:  # what this run changed, for its result and reports (runs of one file look alike)
        # a list or mapping given from Python is kept as JSON, which --set reads back as YAML
        # (["cbc", "ortools"], not Python's "['cbc', 'ortools']")
        sc.extras["overrides"] = {str(k): v if isinstance(v, (str, int, float, bool)) or v is None
                                  else json.dumps(v, ensure_ascii=False, default=str)
                                  for k, v in overrides.items()}
    return sc


def _within(inner: str, outer: str) -> bool:
    """Whether field path ``inner`` lies inside ``outer`` ('a.b[1]' and 'a.b.c' inside 'a.b')."""
    return inner.startswith(outer + ".") or inner.startswith(outer + "[")


def _from_overrides(problems: list[Problem], overrides: Mapping[str, Any]) -> list[Problem]:
    """Problems in a field set by an override point at the override, not at a line of the file."""
    out = []
    for p in problems:
        # the problem lies in what an override set (the field or inside it); an override on one element
        # of a list does not own a problem of the whole list ('duplicate site ids' keeps its line)
        key = next((k for k in overrides if p.field and (k == p.field or _within(p.field, k)
                                                         or k.startswith(p.field + "."))), None)
        if key is not None:
            p = dataclasses.replace(p, line=None, message=f"{p.message} (set by the override {key}="
                                                          f"{overrides[key]})")
        out.append(p)
    return out


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def _override_path(key: str, file: str) -> list[str | int]:
    """``"demands[0].amount"`` -> ``["demands", 0, "amount"]`` (the form error messages print)."""
    if not isinstance(key, str):
        raise ScenarioError(Problem(f"override key {key!r} is a {type(key).__name__}, not a field path",
                                    file=file, hint="Keys are text such as 'constraints.max_distance' or "
                                                    "'demands[0].amount'."))
    parts: list[str | int] = []
    pos = 0
    for m in _PATH_PART.finditer(key):
        if key[pos:m.start()] not in ("", "."):
            break
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    negative = [p for p in parts if isinstance(p, int) and p < 0]
    if negative:  # Python would count from the end: demands[-1] would edit the last demand unseen
        raise ScenarioError(Problem(f"override {key!r}: index {negative[0]} is below 0", file=file,
                                    hint="List indices count from 0, as the error messages print them."))
    if not parts or key[pos:].strip(".") != "" or isinstance(parts[0], int):
        raise ScenarioError(Problem(f"override {key!r} is not a field path", file=file,
                                    hint="Write it as field.sub=value or list[index].field=value, "
                                         "e.g. constraints.max_distance=80 or demands[0].amount=120."))
    return parts


def _unshared(node: Any) -> Any:
    """A copy in which no mapping or list appears twice (YAML anchors and aliases load as one
    shared object; deepcopy would keep them shared)."""
    if isinstance(node, dict):
        return {k: _unshared(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unshared(v) for v in node]
    return node


def _no_child_overridden_later(overrides: Mapping[str, Any], file: str) -> None:
    """``--set a.b=1 --set a={...}``: the second replaces the first's whole parent, silently
    dropping it; refused (the other order, parent then child, is meant and kept)."""
    keys = list(overrides)
    for k, child in enumerate(keys):
        cpath = _override_path(child, file)
        for parent in keys[k + 1:]:
            ppath = _override_path(parent, file)
            if len(ppath) < len(cpath) and cpath[:len(ppath)] == ppath:
                raise ScenarioError(Problem(
                    f"override {parent} comes after {child} and replaces it with its whole value", file=file,
                    field=child, hint=f"Give {parent} first, then {child}; or put the value inside {parent}."))


def apply_override(data: dict, key: str, value: Any, file: str = "<scenario>") -> None:
    """Set ``data[a][b]... = value`` for ``key = "a.b..."`` or ``"a[0].b"`` (creating mappings on
    the way; a list index must exist)."""
    parts = _override_path(key, file)
    if isinstance(value, str):
        try:
            value = yaml.load(value, Loader=YamlLoader)
        except yaml.YAMLError:
            pass
    node: Any = data
    for depth, (part, nxt) in enumerate(zip(parts, parts[1:] + [None])):
        where = _dotted(tuple(parts[:depth]))
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ScenarioError(Problem(f"cannot set {key!r}: {where} is not a list written in the file"
                                            + (" (it is read from a CSV: edit that file)"
                                               if isinstance(node, dict) and "csv" in node else ""),
                                            file=file, field=key))
            if not -len(node) <= part < len(node):
                raise ScenarioError(Problem(f"cannot set {key!r}: {where} has {len(node)} entries "
                                            f"(indices 0-{len(node) - 1})", file=file, field=key))
        elif not isinstance(node, dict):
            raise ScenarioError(Problem(f"cannot set {key!r}: {where} is not a mapping", file=file, field=key))
        if nxt is None:
            node[part] = value
        else:
            if isinstance(node, dict) and node.get(part) is None:
                if isinstance(nxt, int):
                    raise ScenarioError(Problem(f"cannot set {key!r}: the file has no list {part!r} to index"
                                                + (f" in {where}" if where else ""), file=file, field=key))
                node[part] = {}
            node = node[part]


def resolve(spec: S.ScenarioSpec, base: Path, file: str = "<scenario>",
            lines: dict[Loc, int] | None = None) -> Scenario:
    """Turn a validated :class:`ScenarioSpec` into a :class:`Scenario` (reads CSVs, distances)."""
    try:
        return _Resolver(spec, base, file, lines or {}).scenario()
    except ValidationError as err:  # a row qzopt derives (sector demands, generated sizes) that its schema
        e = err.errors()[0]         # refuses: a value the file's checks let through; a message, not a traceback
        where = ".".join(map(str, e["loc"]))
        raise ScenarioError(Problem(f"a {err.title} qzopt derives from this file is refused: {where}: {e['msg']} "
                                    f"(got {e.get('input')!r})", file=file,
                                    hint="Check the values it is derived from; please report the case, as the "
                                         "file's own checks should have named them.")) from None


class _Resolver:
    """Resolution of one scenario file, collecting problems instead of stopping at the first."""

    def __init__(self, spec: S.ScenarioSpec, base: Path, file: str, lines: dict[Loc, int]) -> None:
        self.spec, self.base, self.file, self.lines = spec, base, file, lines
        self.problems: list[Problem] = []
        self.graph = None
        self.sector_site_ids: dict[str, str] = {}  # id -> which sector site list holds it (sector_data._own_ids)
        self.warnings: list[str] = []  # facts about the input that do not stop it (scenario.extras["warnings"])
        self._dup_sets: set[str] = set()  # size sets already reported for repeated size names

    # ------------------------------------------------------------------ helpers
    def bad(self, msg: str, loc: Loc, hint: str | None = None, f: str | None = None, line: int | None = None) -> None:
        in_yaml = f is None or f == self.file  # the line map is the YAML file's, not a CSV's
        self.problems.append(Problem(msg, file=f or self.file, field=_dotted(loc), hint=hint,
                                     line=line if line is not None or not in_yaml else _line_for(self.lines, loc)))

    def check(self) -> None:
        if self.problems:
            raise ScenarioError(self.problems)

    def table(self, value: Any, row_model: type[BaseModel], name: str) -> tuple[list[Any], str]:
        if isinstance(value, S.CsvRef):
            frame, csv_file = _read_csv(self.base, value.csv, f"{name}.csv", self.file)
            absent = [c for c in list(value.rename) + value.ignore if c not in frame.columns]
            if absent:
                self.bad(f"columns {absent} named in rename/ignore are not in {value.csv}", (name,),
                         f"Columns present: {', '.join(frame.columns)}.")
            frame = frame.drop(columns=[c for c in value.ignore if c in frame.columns])
            if self.rename_collisions(value, list(frame.columns), name, csv_file):
                return [], csv_file
            frame = frame.rename(columns=value.rename)
            return _csv_rows(frame, row_model, csv_file, self.problems), csv_file
        return list(value), self.file

    def rename_collisions(self, ref: S.CsvRef, columns: list[str], name: str, csv_file: str) -> bool:
        """``rename: {qty: amount}`` where the CSV also has an ``amount`` column (that is not itself
        renamed away), or two columns renamed to one field: one of them would silently win.
        Reported at ``rename`` in the YAML file, naming the CSV and both columns."""
        after: dict[str, list[str]] = {}
        for c in columns:
            after.setdefault(ref.rename.get(c, c), []).append(c)
        clashes = {target: cols for target, cols in after.items() if len(cols) > 1}
        for target, cols in clashes.items():
            renamed = [c for c in cols if c in ref.rename]
            kept = [c for c in cols if c not in ref.rename]
            what = (f"renames column {renamed[0]!r} to {target!r}, but {Path(csv_file).name} already has a column "
                    f"{target!r}" if kept else f"renames columns {few(renamed)} all to {target!r}")
            self.bad(f"`rename` {what}: one would silently replace the other", (name, "rename", renamed[0]),
                     f"Keep one of columns {few(cols)}: add the other to `ignore`, or rename it to something else "
                     f"(CSV {csv_file}).")
        return bool(clashes)

    # -------------------------------------------------------------------- steps
    def scenario(self) -> Scenario:
        spec = self.spec
        self.distance_fields()
        jur_rows, jur_file = self.table(spec.jurisdictions, S.Jurisdiction, "jurisdictions")
        site_rows, site_file = self.table(spec.sites, S.Site, "sites")
        from qzopt.scenario.sector_data import generation_rule

        if spec.demands is not None and generation_rule(spec) is not None:  # one would be unused
            self.bad(f"both `demands` and `{spec.sector}.generation` are given; `generation` would be ignored",
                     (spec.sector, "generation"), "Give one: `demands`, or `generation` with `population` on the "
                     "jurisdictions.")
            self.check()
        if spec.demands is not None and spec.coldchain is not None:  # its demand ids carry the commodity
            self.bad("a cold-chain scenario derives its demand points from `coldchain.commodities` (one per "
                     "origin and commodity, with the commodity's reach); `demands` would replace them", ("demands",),
                     "Remove `demands` and give the flows as `origins` of the commodities.")
            self.check()
        if spec.demands is not None:
            dem_rows, dem_file = self.table(spec.demands, S.Demand, "demands")
        else:
            dem_rows, dem_file = None, self.file
        for rows, name, fname in ((jur_rows, "jurisdictions", jur_file), (site_rows, "sites", site_file),
                                  (dem_rows, "demands", dem_file)):
            # rows that were all rejected have their own problems (a CSV row's carry the bare column
            # name, an inline row's the table's name): "no rows" is only said when there are none
            if rows is not None and len(rows) == 0 and not any(
                    p.file == fname and (fname != self.file or (p.field or "").startswith(name))
                    for p in self.problems):
                self.bad(f"no {name}: the {'file' if fname != self.file else 'list'} has no rows", (name,),
                         "Give at least one row.", f=fname)
        problem = per_year_problem(spec.units.demand, spec.units.per_year)
        if problem is not None:
            self.bad(problem, ("units", "per_year"), "Leave per_year out to use the unit's calendar count, or give "
                     "the demand per the period you mean (e.g. demand: t/h with amounts per hour).")
        self.check()
        self.units = Units(spec.units.demand, spec.units.distance, spec.units.money,
                           spec.units.per_year or per_year_from_unit(spec.units.demand))
        self.spec = spec = self.sector_distances(spec)
        self.check()
        self.jur = self.jurisdictions(jur_rows, jur_file)
        self.jur_file = jur_file
        if dem_rows is None:
            dem_rows = self.derived_demands()
        self.check()
        demands = self.place(dem_rows, "demands", dem_file)
        size_sets = dict(spec.sizes)
        for name, options in sector_size_sets(spec).items():
            if name in size_sets:
                self.bad(f"size set {name!r} is generated by the {spec.sector} block and also defined under `sizes`",
                         ("sizes", name), "Rename one of them.")
            size_sets[name] = options
        sites, sizes = self.sites(site_rows, site_file, size_sets, ("sites",))
        generator = {"sewage": "plants", "wte": "lines"}.get(spec.sector)
        for name in sector_size_sets(spec):
            if not any(getattr(r, "sizes", None) == name for r in site_rows):
                self.warnings.append(f"the {spec.sector} block's `{generator}` generates the size set {name!r}, which "
                                     f"no site names: its capacities and costs are not used (sites: sizes: {name}).")
        for frame, kind, fname in ((demands, "demands", dem_file), (sites, "sites", site_file)):
            dup = frame.index[frame.index.duplicated()].unique().tolist()
            if dup:
                self.bad(f"duplicate {kind[:-1]} ids {few(dup)}", (kind,), "Every id must be unique.", f=fname)
        if len(dem_rows) == 0:  # not when every row was refused (those problems say why)
            gen = generation_rule(spec) if spec.demands is None else None
            if gen is not None:  # derived: say from what
                self.bad(f"`{spec.sector}.generation` gives no demand: urban {gen.urban:g} and rural {gen.rural:g} "
                         f"{gen.unit} per person a day" + (" (urban only)" if gen.urban_only else "")
                         + " over the jurisdictions' population and urban_share", (spec.sector, "generation"),
                         "Give rates above 0 (and `population` on the jurisdictions).")
            else:
                self.bad("no demand points", ("demands",), "Give at least one demand point.")
        if len(site_rows) == 0:
            self.bad("no candidate sites", ("sites",), "Give at least one site.")
        self.adjacency_ids()
        self.check()
        dist, adjacency = self.distances(demands, sites, from_demand=True)
        cost = None
        if spec.costs.matrix:
            cost = _matrix(self.base, spec.costs.matrix, "costs.matrix", self.file, demands.index, sites.index,
                           self.problems)
            if cost is not None and spec.costs.matrix_per == "unit":
                cost = cost * demands["amount"].to_numpy(float)[:, None] * self.units.per_year
        self.check()
        policy = self.policy(adjacency)
        if spec.constraints.adjacency:
            adjacency = {frozenset(p) for p in spec.constraints.adjacency}
        sv = spec.solver
        solver = SolverSettings(sv.name, sv.time_limit, sv.gap, tuple(sv.fallback) if sv.fallback is not None
                                else None, sv.threads)
        self.check()
        sc = Scenario(
            name=spec.name, description=spec.description or "", sector=spec.sector, units=self.units,
            jurisdictions=self.jur, demands=demands, sites=sites, sizes=sizes, distance=dist, cost=cost,
            transport=spec.costs.transport, discount_rate=spec.costs.discount_rate,
            lifetime_years=spec.costs.lifetime_years, policy=policy, solver=solver,
            adjacency=frozenset(adjacency), source=Path(self.file) if self.file != "<scenario>" else None,
            extras={"graph": self.graph} if self.graph is not None else {},
            fees=None if spec.fees is None else FeeRules(**spec.fees.model_dump(exclude_none=True)),
        )
        sc.validate()
        if spec.sector != "facility":
            from qzopt.scenario.sector_data import resolve_sector

            sc = resolve_sector(self, sc)
            sc.validate(require_sector_data=True)  # with the sector's defaults applied: the checks qzopt.solve(Scenario) makes
        from qzopt.scenario.checks import road_graph_parts, zero_coordinates

        warnings = self.warnings + road_graph_parts(sc) + zero_coordinates(sc, spec.distances.method == "great_circle")
        if "lifetime_years" not in spec.costs.model_fields_set and (sc.sizes["capex"].to_numpy(float) > 0).any():
            warnings.append("costs.lifetime_years is not given, so capex is spread over 1 year: every plant's whole "
                            "capex is charged in every year's cost; give the plants' economic life (e.g. "
                            "lifetime_years: 25)")
        if warnings:  # facts a user should see that do not stop a solve (``scenario.extras["warnings"]``)
            sc.extras["warnings"] = warnings
        return sc

    def distance_fields(self) -> None:
        """A field of ``distances`` that the chosen method does not read is an error: it would
        be silently ignored (``edges`` under great_circle never opens the file, not even a missing one)."""
        d = self.spec.distances
        # the methods reading each field (``collection`` is added under every method)
        readers = {"edges": ("road_graph",), "matrix": ("matrix",), "circuity": ("great_circle",),
                   "within_node": ("road_graph", "great_circle")}
        given = {"edges": d.edges is not None, "matrix": d.matrix is not None,
                 "circuity": "circuity" in d.model_fields_set, "within_node": "within_node" in d.model_fields_set}
        for name, methods in readers.items():
            if given[name] and d.method not in methods:
                read = " or ".join(f"`method: {m}`" for m in methods)
                # edges and matrix may be set to null; circuity and within_node are numbers (null is refused)
                drop = (f"drop `{name}` (on the command line: --set distances.{name}=null)"
                        if name in ("edges", "matrix")
                        else f"remove `{name}` from the `distances` block of the file (or the --set that gives it)")
                self.bad(f"`{name}` is read only with {read} (this file uses method "
                         f"{d.method}, which ignores it)", ("distances", name),
                         f"Set {read}, or {drop}.")
        self.check()

    def jurisdictions(self, rows: list[Any], fname: str) -> pd.DataFrame:
        jur = pd.DataFrame([{"id": r.id, "name": r.name or r.id, "group": r.group or r.id, "lat": r.lat,
                             "lon": r.lon, "node": r.node or r.id, "population": r.population,
                             "urban_share": r.urban_share, "elevation_m": r.elevation_m} for r in rows])
        jur = jur.set_index("id")
        for col in ("lat", "lon", "population", "urban_share", "elevation_m"):
            jur[col] = jur[col].astype(float)
        if jur.index.duplicated().any():
            self.bad(f"duplicate jurisdiction ids {few(jur.index[jur.index.duplicated()].unique())}",
                     ("jurisdictions",), f=fname)
        return jur

    def derived_demands(self) -> list[S.Demand]:
        from qzopt.scenario.sector_data import derive_demands, generation_rule, generation_unit_fits

        if self.spec.coldchain is not None:  # an origin is a jurisdiction id: name the origin, not a derived row
            unknown = [(k, c.name, o) for k, c in enumerate(self.spec.coldchain.commodities) for o in c.origins
                       if o not in self.jur.index]
            for k, name, origin in unknown:
                self.bad(f"origin {origin!r} of commodity {name!r} is not a jurisdiction",
                         ("coldchain", "commodities", k, "origins", origin),
                         suggest(origin, list(self.jur.index), what="Jurisdictions"))
            if unknown:
                return []
        gen = generation_rule(self.spec)
        if gen is not None and not generation_unit_fits(self, gen, self.units, (self.spec.sector, "generation", "unit")):
            return []
        rows, problem = derive_demands(self.spec, self.jur)
        if problem:
            self.bad(problem, ("demands",), "Give `demands`, or the sector block's `generation` with "
                     "`population` (and `urban_share`) on the jurisdictions.")
        elif self.spec.coldchain is None:
            self.unpopulated(f"the {self.spec.sector} `generation` rule", gen)
        return rows

    def unpopulated(self, rule: str, gen: Any = None) -> None:
        """A jurisdiction without ``population`` where demand follows from population is an error
        naming it (it would silently get no demand); ``population: 0`` says "no demand here".
        Likewise one with population but no ``urban_share`` when the rule's urban and rural rates
        differ (it would silently count as all rural); ``urban_share: 0`` says "all rural"."""
        in_yaml = self.jur_file == self.file
        split = gen is not None and (gen.urban_only or gen.urban != gen.rural)
        for k, (jid, row) in enumerate(self.jur[["population", "urban_share"]].iterrows()):
            where = dict(f=self.jur_file, line=None if in_yaml else k + 2)
            if pd.isna(row["population"]):
                self.bad(f"jurisdiction {jid!r} has no `population`, so {rule} would give it no demand",
                         ("jurisdictions", k, "population") if in_yaml else ("population",),
                         "Give its population, or `population: 0` if it has no demand on purpose (e.g. it "
                         "only hosts sites).", **where)
            elif split and row["population"] > 0 and pd.isna(row["urban_share"]):
                rates = ("counts urban residents only" if gen.urban_only else
                         f"has {gen.urban:g} {gen.unit} per urban and {gen.rural:g} per rural resident")
                self.bad(f"jurisdiction {jid!r} has a population but no `urban_share`, and {rule} {rates}: "
                         "its demand depends on the share",
                         ("jurisdictions", k, "urban_share") if in_yaml else ("urban_share",),
                         "Give its urban_share (0 = all rural, 1 = all urban).", **where)

    def distance_limit(self, value: float | str, loc: Loc, f: str | None = None, line: int | None = None,
                       optional: bool = True) -> float | None:
        """A distance limit (``constraints.max_distance``, a demand point's own ``max_distance``, a
        sector block's limits) in units.distance: a number or one with its unit ('80 km'), finite
        and above 0; a bad one is a problem at ``loc`` (None returned).  ``optional``: the field
        may be left out for no limit (so the message says so)."""
        absent = "; leave it out for no limit" if optional else ""
        try:
            limit = parse_distance(value, self.units.distance)
            if not np.isfinite(limit):  # '1e400' is read as inf: "no limit" must be said by leaving it out
                raise ValueError(f"the distance limit must be a finite number (got {value!r}, "
                                 f"which is infinite){absent}")
            if not limit > 0:
                raise ValueError(f"the distance limit must be above 0 {self.units.distance} "
                                 f"(got {value!r}){absent}")
            return float(limit)
        except ValueError as exc:
            self.bad(str(exc), loc, sexagesimal_hint(value), f=f, line=line)
            return None

    def sector_distances(self, spec: S.ScenarioSpec) -> S.ScenarioSpec:
        """``spec`` with the sector block's distance limits (:data:`SECTOR_DISTANCES`) given with
        their unit ('40 km') turned into numbers in units.distance; a bad one is a problem.  A
        sector that reads its figures per km and a scenario that measures in minutes are one
        problem, said first (converting '40 km' to minutes would point the other way)."""
        from qzopt.scenario.sector_data import km_problem

        problem = km_problem(spec.sector, self.units.distance)
        if problem is not None:
            self.bad(*problem)
            return spec
        for path in SECTOR_DISTANCES:
            value = _field_at(spec, path)
            if isinstance(value, str):
                block = _field_at(spec, path[:-1])  # a required limit (max_length) is not told "leave it out"
                optional = not type(block).model_fields[path[-1]].is_required()
                spec = _with_field(spec, path, self.distance_limit(value, path, optional=optional))
        return spec

    def place(self, rows: list[Any], kind: str, fname: str, loc0: Loc | None = None) -> pd.DataFrame:
        recs = []
        jur = self.jur
        loc0 = loc0 or (kind,)
        for k, r in enumerate(rows):
            loc = loc0 + (k,) if fname == self.file else loc0
            if r.jurisdiction not in jur.index:
                self.bad(f"jurisdiction {r.jurisdiction!r} of {kind[:-1]} {r.id!r} does not exist",
                         loc + ("jurisdiction",),
                         suggest(r.jurisdiction, jur.index, otherwise="Add it to `jurisdictions`."), f=fname,
                         line=None if fname == self.file else k + 2)
                continue
            j = jur.loc[r.jurisdiction]
            rec = {"id": r.id, "name": r.name or r.id, "jurisdiction": r.jurisdiction,
                   "lat": r.lat if r.lat is not None else j["lat"],
                   "lon": r.lon if r.lon is not None else j["lon"],
                   "node": r.node or j["node"]}
            if kind == "demands":
                rec["amount"] = r.amount
                limit = None if r.max_distance is None else self.distance_limit(
                    r.max_distance, loc + ("max_distance",), fname, None if fname == self.file else k + 2)
                rec["max_distance"] = np.nan if limit is None else limit
            recs.append(rec)
        cols = ["id", "name", "jurisdiction", "lat", "lon", "node"] + (
            ["amount", "max_distance"] if kind == "demands" else [])
        frame = pd.DataFrame(recs, columns=cols).set_index("id")
        frame[["lat", "lon"]] = frame[["lat", "lon"]].astype(float)
        return frame

    def sites(self, site_rows: list[Any], site_file: str, size_sets: dict[str, list[S.SizeOption]],
              loc0: Loc) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Sites and their size options (one row per site and size)."""
        sites = self.place(site_rows, "sites", site_file, loc0)
        size_recs, site_meta = [], {}
        for k, r in enumerate(site_rows):
            loc = loc0 + (k,) if site_file == self.file else loc0
            csv_line = None if site_file == self.file else k + 2
            if isinstance(r.sizes, str):
                if r.sizes not in size_sets:
                    generated = r.sizes in sector_size_sets(self.spec)  # the plants' set, named at another list
                    self.bad(f"site {r.id!r} uses size set {r.sizes!r}, which is "
                             + ("generated for the plants only (the top-level `sites`)" if generated
                                else "not defined under `sizes`"),
                             loc + ("sizes",), "Give these sites sizes of their own (inline, or a set under "
                             "`sizes` or the block's `sizes`)." if generated
                             else suggest(r.sizes, size_sets, what="Defined sets"), f=site_file, line=csv_line)
                    continue
                options = size_sets[r.sizes]
            else:
                options = r.sizes
            names = [o.name for o in options]
            if not options:
                self.bad(f"site {r.id!r} has no size option", loc + ("sizes",),
                         "Give each site at least one size.", f=site_file, line=csv_line)
                continue
            self.unique_size_names(r, names, loc, site_file, csv_line)
            existing, problem, hint = existing_size(r.existing, names)
            if problem is None and existing and existing not in names:
                problem, hint = (f"is existing at size {existing!r}, which is not one of {names}",
                                 suggest(existing, names, otherwise="Write one of them."))
            if problem is not None:
                self.bad(f"site {r.id!r} {problem}", loc + ("existing",), hint, f=site_file, line=csv_line)
            if r.excluded and (existing or r.required):
                what = f"existing (at size {existing!r})" if existing else "required"
                self.bad(f"site {r.id!r} is both {what} and excluded", loc + ("excluded",),
                         "An excluded site never opens: drop one of the two.", f=site_file, line=csv_line)
            site_meta[r.id] = (existing, bool(r.excluded), bool(r.required))
            for o in options:
                size_recs.append({"site": r.id, "size": o.name,
                                  "capacity": np.inf if o.capacity is None else o.capacity,
                                  "capex": o.capex, "fixed_cost": o.fixed_cost, "unit_cost": o.unit_cost,
                                  "min_load": o.min_load})
        sizes = pd.DataFrame(size_recs, columns=["site", "size", "capacity", "capex", "fixed_cost", "unit_cost",
                                                 "min_load"])
        meta = [site_meta.get(s, ("", False, False)) for s in sites.index]
        sites["existing"] = [m[0] for m in meta]
        sites["excluded"] = [m[1] for m in meta]
        sites["required"] = [m[2] for m in meta]
        return sites, sizes

    def unique_size_names(self, r: Any, names: list[str], loc: Loc, site_file: str, csv_line: int | None) -> None:
        """Size names repeated within a site's options (reported once per size set, at the set)."""
        dups = S.repeated(names)
        if not dups:
            return
        if isinstance(r.sizes, str):
            if r.sizes in self._dup_sets:
                return
            self._dup_sets.add(r.sizes)
            if r.sizes in self.spec.sizes:
                k = names.index(dups[0], names.index(dups[0]) + 1)
                self.bad(f"size set {r.sizes!r} gives size names more than once: {few(dups)}",
                         ("sizes", r.sizes, k, "name"), "Give every size of a set its own name.")
                return
            self.bad(f"size set {r.sizes!r} (used by site {r.id!r}) gives size names more than once: {few(dups)}",
                     loc + ("sizes",), "Give every size of a set its own name.", f=site_file, line=csv_line)
            return
        k = names.index(dups[0], names.index(dups[0]) + 1)
        self.bad(f"site {r.id!r} gives size names more than once: {few(dups)}", loc + ("sizes", k, "name"),
                 "Give every size option of a site its own name.", f=site_file, line=csv_line)

    def adjacency_ids(self) -> None:
        """``constraints.adjacency`` pairs that name jurisdictions the file does not have, or one
        jurisdiction twice; and an empty list, which would read as "not given" (road-graph adjacency)."""
        if self.spec.constraints.adjacency == []:
            self.bad("`adjacency: []` gives no pairs, and an empty list would read as not given (adjacency "
                     "derived from the road graph)", ("constraints", "adjacency"),
                     "Give at least one pair, or leave adjacency out to derive it from the road graph.")
        for k, pair in enumerate(self.spec.constraints.adjacency or []):
            if pair[0] == pair[1]:
                self.bad(f"adjacency pair {list(pair)} names jurisdiction {pair[0]!r} twice; a pair is two "
                         "different adjacent jurisdictions", ("constraints", "adjacency", k),
                         "Every jurisdiction is adjacent to itself already: remove the pair, or name its neighbour.")
                continue
            unknown = [j for j in pair if j not in self.jur.index]
            for j in unknown:
                self.bad(f"adjacency pair {list(pair)} names jurisdiction {j!r}, which does not exist",
                         ("constraints", "adjacency", k), suggest(j, self.jur.index, otherwise="Add it to "
                                                                  "`jurisdictions`."))

    def distances(self, a: pd.DataFrame, b: pd.DataFrame, from_demand: bool = False,
                  where: tuple[Loc, Loc] = (("demands",), ("sites",))) -> tuple[np.ndarray, set[frozenset[str]]]:
        """Distance matrix between two located tables (rows of ``a`` x rows of ``b``), and the
        jurisdiction adjacency the road graph implies.  ``from_demand``: ``a`` are demand points,
        whose every distance starts with the ``distances.collection`` leg.  ``where``: the fields
        of ``a`` and ``b`` in the file, for messages (e.g. ``wte.fly_ash.sites``)."""
        dist, adjacency = self._node_distances(a, b, where)
        leg = self.spec.distances.collection
        return (dist + leg if from_demand and leg > 0 else dist), adjacency

    def _node_distances(self, a: pd.DataFrame, b: pd.DataFrame, where: tuple[Loc, Loc] = (("demands",), ("sites",))
                        ) -> tuple[np.ndarray, set[frozenset[str]]]:
        d = self.spec.distances
        adjacency: set[frozenset[str]] = set()
        if d.method == "great_circle":
            for frame, kind in ((a, "demands"), (b, "sites")):
                missing = frame.index[frame[["lat", "lon"]].isna().any(axis=1)].tolist()
                if missing:
                    self.bad(f"great_circle distances need lat/lon; {kind} {few(missing)} have none", (kind,),
                             "Give lat/lon on the row or on its jurisdiction, or use distances.method: road_graph.")
            self.check()
            if self.units.distance != "km":
                self.bad("great_circle distances are in km but units.distance is " + self.units.distance,
                         ("distances", "method"), "Use units.distance: km, or give travel times as a road graph or matrix.")
                self.check()
            dist = great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]) * d.circuity
            same = a["node"].to_numpy()[:, None] == b["node"].to_numpy()[None, :]
            return np.where(same & (dist < d.within_node), d.within_node, dist), adjacency
        if d.method == "road_graph":
            if self.graph is None:
                self.graph = self.road_graph()
            g = self.graph
            for frame, loc in ((a, where[0]), (b, where[1])):
                unknown = sorted(set(frame["node"]) - set(g.nodes))
                if unknown:
                    ids = frame.index[frame["node"].isin(unknown)].astype(str).tolist()
                    kind = "demand" if loc[-1] == "demands" else "site"
                    self.bad(f"{kind} nodes {few(unknown)} are not in the road graph {Path(d.edges).name} "
                             f"({kind}s {few(ids)})", loc,
                             "Every demand and site node (default: its jurisdiction id) needs a road.")
            self.check()
            node_to_jur = {row.node: jid for jid, row in self.jur.iterrows()}
            for u, v in g.edges:
                ju, jv = node_to_jur.get(u), node_to_jur.get(v)
                if ju and jv and ju != jv:
                    adjacency.add(frozenset((ju, jv)))
            return graph_distances(g, a["node"], b["node"], d.within_node), adjacency
        if not d.matrix:
            self.bad("matrix distances need `matrix` (a CSV)", ("distances", "matrix"))
            self.check()
        dist = _matrix(self.base, d.matrix, "distances.matrix", self.file, a.index, b.index, self.problems)
        self.check()
        return dist, adjacency

    def road_graph(self):
        d = self.spec.distances
        if not d.edges:
            self.bad("road_graph needs `edges` (a CSV with from,to,km)", ("distances", "edges"))
            self.check()
        edges, edges_file = _read_csv(self.base, d.edges, "distances.edges", self.file)
        weight = _distance_column(edges, self.units.distance, edges_file, self.problems)
        missing_cols = [c for c in ("from", "to") if c not in edges.columns]
        if missing_cols:
            self.problems.append(Problem(f"edge table lacks columns {missing_cols}", file=edges_file, line=1,
                                         hint="Columns needed: from, to, and km or min."))
        self.check()
        w = pd.to_numeric(edges[weight], errors="coerce")
        bad_rows = [int(k) + 2 for k in np.flatnonzero(~((w >= 0) & np.isfinite(w)))]
        if bad_rows:
            self.problems.append(Problem(f"edge lengths must be finite numbers >= 0 (lines {few(bad_rows)})",
                                         file=edges_file, field=weight, line=bad_rows[0],
                                         hint="Leave out a road that does not exist rather than writing inf."))
        for col in ("from", "to"):
            ends = edges[col].astype(str)
            blank = [int(k) + 2 for k in np.flatnonzero((ends.str.strip() == "").to_numpy())]
            if blank:
                self.problems.append(Problem(f"edge rows without a `{col}` node (lines {few(blank)})",
                                             file=edges_file, field=col, line=blank[0],
                                             hint="Every road needs both ends; delete the row or fill it in."))
            spaced = [int(k) + 2 for k in np.flatnonzero(((ends != ends.str.strip()) & (ends.str.strip() != ""))
                                                         .to_numpy())]
            if spaced:
                k = spaced[0]
                self.problems.append(Problem(
                    f"node {edges[col].iat[k - 2]!r} begins or ends with a space (lines {few(spaced)}); nodes are "
                    f"matched exactly, so it would be a node of its own", file=edges_file, field=col, line=k,
                    hint=f"Write {edges[col].iat[k - 2].strip()!r}."))
        self.check()
        return road_graph(edges.assign(**{weight: w}), weight)

    def policy(self, adjacency: set[frozenset[str]]) -> Policy:
        c = self.spec.constraints
        max_distance = None if c.max_distance is None else self.distance_limit(c.max_distance,
                                                                                ("constraints", "max_distance"))
        fc = c.facilities or S.FacilityCount()
        return Policy(
            serve_share=c.demand.serve, unserved_penalty=c.demand.penalty, single_sourcing=c.single_sourcing,
            max_distance=max_distance, facilities_exactly=fc.exactly, facilities_at_most=fc.at_most,
            facilities_at_least=fc.at_least, budget=c.budget, cross_border=c.cross_border, min_load=c.min_load,
            strong_linking=self.spec.formulation.strong_linking,
        )


#: Sector fields holding a distance limit (a number in units.distance, or '40 km').
SECTOR_DISTANCES: tuple[Loc, ...] = (
    ("sewage", "trunk_sewer", "max_length"), ("sewage", "sludge", "max_distance"),
    ("wte", "fly_ash", "max_distance"), ("wte", "kitchen", "max_distance"), ("coldchain", "outlets", "max_distance"))


def _field_at(model: BaseModel | None, path: Loc) -> Any:
    """The value at ``path`` of nested pydantic models (None where a block is absent)."""
    for name in path:
        if model is None:
            return None
        model = getattr(model, name)
    return model


def _with_field(model: BaseModel, path: Loc, value: Any) -> BaseModel:
    """A copy of ``model`` with the field at ``path`` (of its nested models) set to ``value``."""
    head, *rest = path
    inner = value if not rest else _with_field(getattr(model, head), tuple(rest), value)
    return model.model_copy(update={head: inner})


def sector_size_sets(spec: S.ScenarioSpec) -> dict[str, list[S.SizeOption]]:
    """Size sets a sector block generates (sewage plants from a*Q^b, WtE plants from lines)."""
    if spec.sewage is not None:
        return {spec.sewage.plants.name: spec.sewage.plants.options()}
    if spec.wte is not None:
        return {spec.wte.lines.name: spec.wte.lines.options()}
    return {}


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
    frame.index = frame.index.astype(str)
    twice = frame.index[frame.index.duplicated()].unique().tolist()
    if twice:
        problems.append(Problem(f"demand rows {few(twice)} are given more than once", file=mfile, field=field,
                                line=int(np.flatnonzero(frame.index.duplicated())[0]) + 2,
                                hint="Give each demand one row."))
        return None
    # one matrix may serve several tables (demands x sites, sites x second-echelon sites), so rows
    # and columns for other ids are expected; an id it lacks is an error, and an extra id close
    # to it is named as the likely typo
    row_set, col_set = set(frame.index), set(frame.columns)
    missing_rows = [r for r in rows if r not in row_set]
    missing_cols = [c for c in cols if c not in col_set]
    if missing_rows or missing_cols:
        extra_rows = [str(g) for g in frame.index if g not in set(rows)]
        extra_cols = [str(g) for g in frame.columns if g not in set(cols)]
        typos = [f"{near!r} for {m!r}" for missing, extra in ((missing_rows, extra_rows), (missing_cols, extra_cols))
                 for m in missing if (near := closest(m, extra)) is not None]  # difflib once per name
        crossed = [m for m in missing_rows if m in col_set] + [m for m in missing_cols if m in row_set]
        lacks = "; ".join(x for x in (f"rows {few(missing_rows)}" if missing_rows else "",
                                         f"columns {few(missing_cols)}" if missing_cols else "") if x)
        problems.append(Problem(
            f"matrix lacks {lacks}", file=mfile, field=field, line=1,
            hint=("A typo? It has " + ", ".join(typos[:5]) + ". " if typos else "")
            + (f"{few(crossed)} are there on the other axis. " if crossed else "")
            + "First column: the id a distance starts from (demand ids; plant site ids too when a second echelon's "
              "hauls start there); one column per site id it goes to."))
        return None
    sub = frame.loc[rows, cols].replace({"inf": "inf", "": "inf"})
    values = sub.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        problems.append(Problem(f"not a number at demand {rows[r]!r}, site {cols[c]!r}", file=mfile, field=field,
                                hint="Use numbers; leave empty or write inf for 'no connection'."))
        return None
    if (values < 0).any():
        r, c = np.argwhere(values < 0)[0]
        problems.append(Problem(f"{values[r, c]:g} at demand {rows[r]!r}, site {cols[c]!r} is negative", file=mfile,
                                field=field, line=int(frame.index.get_loc(rows[r])) + 2,
                                hint="Distances and costs are >= 0 (inf or empty: no connection)."))
        return None
    return values
