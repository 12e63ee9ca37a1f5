"""Benchmark suites: which instances, where their files are, and their published optima.

An :class:`Instance` is a plain, picklable description (it is sent to the worker process
that loads and solves it).  Published optima come from the README tables of
``shared/benchmarks/orlib``; instances without one must be *proved* optimal by the run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: The four capacities the literature solves capa/capb/capc with (units of demand).
CAPABC_CAPACITIES: dict[str, tuple[float, ...]] = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}

CAP_SMALL = ["cap41", "cap42", "cap43", "cap44", "cap51", "cap61", "cap62", "cap63", "cap64",
             "cap71", "cap72", "cap73", "cap74"]
CAP_LARGE = [f"cap{g}{k}" for g in (8, 9, 10, 11, 12, 13) for k in (1, 2, 3, 4)]

SUITES = ("orlib-pmed", "orlib-cap", "qianzhong-scale", "smoke", "orlib-cap-small", "orlib-capabc")


@dataclass(frozen=True)
class Instance:
    """One benchmark instance.

    ``kind`` is ``pmed``, ``cap``, ``scale`` or ``build`` (model building only: the
    one-million-pair target); ``path`` the OR-Library file (empty for generated
    instances); ``capacity`` overrides warehouse capacities (capa/b/c); ``optimum`` the published
    optimal value, or ``None`` when the run must prove it; ``gap`` the relative gap asked of every
    solver (0 = prove optimality).
    """

    name: str
    kind: str
    path: str = ""
    capacity: float | None = None
    optimum: float | None = None
    gap: float = 0.0
    scale: str = ""  # qianzhong-scale: "township" or "village"


def shared_dir() -> Path:
    """``$QZOPT_SHARED`` or the ``shared`` folder beside the project checkout."""
    env = os.environ.get("QZOPT_SHARED")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent.parent / "shared" / "benchmarks").exists():
            return parent.parent / "shared"
    return Path.cwd().parent / "shared"


def published_optima(readme: Path) -> dict[str, float]:
    """``instance -> optimal value`` from the tables of an OR-Library README (last column)."""
    if not readme.exists():
        return {}
    text = readme.read_text()
    pattern = r"^\| (\w+) \| [^|]+\| [^|]+\| ([\d.]+) \|$"
    return {m.group(1): float(m.group(2)) for m in re.finditer(pattern, text, re.M)}


def _find(shared: Path, sub: str, name: str) -> Path:
    for base in ("orlib", "orlib-large"):
        p = shared / "benchmarks" / base / sub / f"{name}.txt"
        if p.exists():
            return p
    return shared / "benchmarks" / "orlib" / sub / f"{name}.txt"


def pmed_instances(shared: Path | None = None) -> list[Instance]:
    """pmed1 … pmed40 (published optima for pmed1-10 only)."""
    shared = shared or shared_dir()
    opt = published_optima(shared / "benchmarks" / "orlib" / "README.md")
    return [Instance(f"pmed{k}", "pmed", str(_find(shared, "pmed", f"pmed{k}")), optimum=opt.get(f"pmed{k}"))
            for k in range(1, 41)]


def cap_instances(shared: Path | None = None) -> list[Instance]:
    """cap41 … cap134, then capa/capb/capc at their four literature capacities."""
    shared = shared or shared_dir()
    opt = published_optima(shared / "benchmarks" / "orlib" / "README.md")
    out = [Instance(n, "cap", str(_find(shared, "cap", n)), optimum=opt.get(n)) for n in CAP_SMALL + CAP_LARGE]
    for name, caps in CAPABC_CAPACITIES.items():
        out += [Instance(f"{name}-{c:g}", "cap", str(_find(shared, "cap", name)), capacity=float(c)) for c in caps]
    return out


def scale_instances() -> list[Instance]:
    """The generated Qianzhong-like instances (see :mod:`qzopt.bench.scale`); the village one is
    asked for a 1 % gap, as the performance target states."""
    return [Instance("qianzhong-township", "scale", scale="township"),
            Instance("qianzhong-village", "scale", scale="village", gap=0.01),
            Instance("qianzhong-million", "build", scale="million")]


def suite(name: str, shared: Path | None = None) -> list[Instance]:
    """The instances of a suite (``all`` = orlib-pmed, orlib-cap and qianzhong-scale; ``orlib-cap-small``
    and ``orlib-capabc`` are the two parts of orlib-cap)."""
    if name == "orlib-pmed":
        return pmed_instances(shared)
    if name == "orlib-cap":
        return cap_instances(shared)
    if name == "qianzhong-scale":
        return scale_instances()
    if name == "orlib-cap-small":  # cap41-cap134: the 1/3 target at ~20 ms a solve, 9 runs per median
        return [i for i in cap_instances(shared) if not i.capacity]
    if name == "orlib-capabc":  # capa/capb/capc at their four capacities: minutes each
        return [i for i in cap_instances(shared) if i.capacity]
    if name == "smoke":  # a few seconds: the CI subset
        by_name = {i.name: i for i in pmed_instances(shared) + cap_instances(shared)}
        return [by_name["pmed1"], by_name["cap41"]]
    if name == "all":
        return pmed_instances(shared) + cap_instances(shared) + scale_instances()
    raise KeyError(f"unknown suite {name!r}; known: {', '.join(SUITES + ('all',))}")
