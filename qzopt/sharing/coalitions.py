"""Coalition costs from a scenario: what a group of jurisdictions would pay on its own.

The cost of coalition S is the optimal annual cost of serving only S's demand with only the
sites S may use (``territory="own"``: sites in S's jurisdictions, the default; ``"all"``: any
site), under the scenario's fee rule (one fee across S's plants, within the same cap).  Each is
a MILP built by the same model builder and solved by :func:`qzopt.solve`; the grand coalition is
the scenario itself, so its cost is ``qzopt solve``'s objective.  A coalition that cannot keep
its fee within the cap alone has an infinite cost, with the reason and its cost without the fee
rule recorded.  Coalitions are solved in parallel worker processes and cached on disk, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterable, Literal

import numpy as np
import pandas as pd

from qzopt.arguments import ArgumentError, bad_argument, check_choice, check_int
from qzopt.errors import QzoptError
from qzopt.scenario.scenario import Scenario

Territory = Literal["own", "all"]
#: The values of a ``territory`` argument: a coalition's own sites, or every site.
TERRITORIES = ("own", "all")


def players_of(sc: Scenario, by: str = "group", function: str | None = None) -> pd.Series:
    """Jurisdiction id -> player: its ``group`` (e.g. prefecture) or itself (``jurisdiction``).
    Another ``by`` is an :class:`~qzopt.arguments.ArgumentError` (a ValueError), naming ``function``,
    the caller, and its argument ``by`` when ``function`` is given."""
    if by in ("jurisdiction", "id"):
        return pd.Series(sc.jurisdictions.index, index=sc.jurisdictions.index)
    if not isinstance(by, str) or by not in sc.jurisdictions.columns:
        text = [c for c in sc.jurisdictions.columns if not pd.api.types.is_numeric_dtype(sc.jurisdictions[c])]
        problem = (f"no column {by!r} on the jurisdictions; use 'jurisdiction'"
                   + (f" or one of {', '.join(repr(c) for c in text)}" if text else ""))
        raise ArgumentError(problem) if function is None else bad_argument(function, "by", by, problem)
    return sc.jurisdictions[by].astype(str)


#: The most players whose every coalition is solved: 2^15 - 1 = 32,767 plans, hours at a second
#: each.  Beyond it the coalitions alone (2^33 for 33 counties) would not fit in memory.
MAX_PLAYERS = 15


def grouping_hint(sc: Scenario | None, by: str) -> str:
    """How to have fewer players: group the jurisdictions (and how many players `group` makes)."""
    groups = ""
    if sc is not None and by != "group" and "group" in sc.jurisdictions.columns:
        groups = (f" `--players group` (by=\"group\" in Python) makes {sc.jurisdictions['group'].nunique()} "
                  "players here;")
    return f"Group the jurisdictions:{groups} any column of the jurisdictions can be the grouping."


def every_coalition(players: list[str], sc: Scenario | None = None, by: str = "group") -> list[tuple[str, ...]]:
    """Every non-empty coalition of ``players`` (sorted tuples), or a :class:`QzoptError` when
    there are more than :data:`MAX_PLAYERS` of them, saying how to group them (``sc`` and ``by``
    name the grouping used, for the message)."""
    n = len(players)
    if n > MAX_PLAYERS:
        raise QzoptError(f"{n} players ({by}) make {2 ** n - 1:,} coalitions, too many to solve a plan for each: "
                         f"every coalition is solved for at most {MAX_PLAYERS} players "
                         f"({2 ** MAX_PLAYERS - 1:,} coalitions).  {grouping_hint(sc, by)}")
    return [c for r in range(1, n + 1) for c in itertools.combinations(sorted(players), r)]


def restrict(sc: Scenario, jurisdictions: set[str], territory: Territory = "own", fees: bool = True) -> Scenario:
    """The scenario of a coalition: its demand only, its sites only (``own`` territory).

    The fee rule applies to every coalition as to the region (``fees=False`` drops it): S charges
    one fee across its own plants (or fees within the band), within the same cap, so c(S) is the
    cheapest way for S to serve itself under the rules the region plans under.  The ``compare``
    solve (the price of equalisation) is switched off: it does not change c(S).  Facility counts
    and the capex budget are rules of the whole region: they are dropped for a proper coalition
    and kept when ``jurisdictions`` is every jurisdiction, which is then the scenario itself.
    """
    territory = check_choice("restrict", "territory", territory, TERRITORIES)
    rules = sc.fees if fees and sc.fees is not None and sc.fees.active else None
    if rules is not None:
        rules = dataclasses.replace(rules, compare=False)
    if set(sc.jurisdictions.index) <= set(jurisdictions):
        return dataclasses.replace(sc, fees=rules)
    dem = sc.demands["jurisdiction"].isin(jurisdictions).to_numpy()
    site_ok = sc.sites["jurisdiction"].isin(jurisdictions).to_numpy() if territory == "own" else \
        np.ones(len(sc.sites), bool)
    sites = _others_optional(sc.sites[site_ok], jurisdictions)
    sizes = sc.sizes[sc.sizes["site"].isin(sites.index)].reset_index(drop=True)
    adjacency = frozenset(p for p in sc.adjacency if p <= jurisdictions) if territory == "own" else sc.adjacency
    policy = dataclasses.replace(sc.policy, facilities_exactly=None, facilities_at_most=None,
                                 facilities_at_least=None, budget=None)
    if policy.cross_border == "adjacent" and not adjacency:  # no neighbour inside: 'adjacent' is 'own' here
        policy = dataclasses.replace(policy, cross_border="own")
    sub = dataclasses.replace(
        sc, name=f"{sc.name} [{len(jurisdictions)} jurisdictions]", demands=sc.demands[dem], sites=sites,
        sizes=sizes, distance=sc.distance[np.ix_(dem, site_ok)],
        cost=None if sc.cost is None else sc.cost[np.ix_(dem, site_ok)], policy=policy, fees=rules,
        adjacency=adjacency)
    if sc.sector_data is not None:
        sub = dataclasses.replace(sub, sector_data=_restrict_sector(sc, sub, site_ok, jurisdictions, territory))
    return sub


def _others_optional(sites: pd.DataFrame, jurisdictions: set[str]) -> pd.DataFrame:
    """``sites`` with the existing and required sites of jurisdictions outside the coalition made
    ordinary candidates (at their sizes and costs): a coalition that may use any site
    (``territory="all"``) may use another's plant, at what it costs, but is not bound to run it.
    Its own existing and required sites stay as they are."""
    others = ~sites["jurisdiction"].isin(jurisdictions).to_numpy()
    if not others.any():
        return sites
    sites = sites.copy()
    sites.loc[others, "existing"] = ""
    if "required" in sites:
        sites.loc[others, "required"] = False
    return sites


def _restrict_sector(sc: Scenario, sub: Scenario, site_ok: np.ndarray, jurisdictions: set[str],
                     territory: Territory):
    sd = sc.sector_data
    new_pos = np.cumsum(site_ok) - 1
    echelons = {}
    for name, ed in sd.echelons.items():
        if ed.into_stream:
            keep = site_ok
            src = None if ed.source_sites is None else new_pos[[s for s in ed.source_sites if site_ok[s]]]
            echelons[name] = dataclasses.replace(ed, sites=sub.sites, sizes=sub.sizes,
                                                 distance=ed.distance[np.ix_(keep, keep)], source_sites=src)
            continue
        dkeep = ed.sites["jurisdiction"].isin(jurisdictions).to_numpy() if territory == "own" else \
            np.ones(len(ed.sites), bool)
        dsites = _others_optional(ed.sites[dkeep], jurisdictions)
        src = None if ed.source_sites is None else new_pos[[s for s in ed.source_sites if site_ok[s]]]
        echelons[name] = dataclasses.replace(
            ed, sites=dsites, sizes=ed.sizes[ed.sizes["site"].isin(dsites.index)].reset_index(drop=True),
            distance=ed.distance[np.ix_(site_ok, dkeep)], source_sites=src)
    streams = {k: restrict(v, jurisdictions, territory, fees=False) for k, v in sd.streams.items()}
    attrs = None if sd.demand_attrs is None else sd.demand_attrs.reindex(sub.demands.index)
    role = None if sd.site_role is None else sd.site_role.reindex(sub.sites.index)
    return dataclasses.replace(sd, echelons=echelons, streams=streams, demand_attrs=attrs, site_role=role)


@dataclasses.dataclass
class CoalitionResult:
    """The solved cost of one coalition (money per year) and how it was obtained."""

    players: tuple[str, ...]
    cost: float
    status: str
    gap: float | None
    solver: str
    seconds: float
    cached: bool = False
    reason: str = ""  # why the cost is infinite or not proven (empty when optimal)
    cost_without_fees: float | None = None  # when the fee rule alone makes the coalition infeasible


# the rules a coalition plans under: bump when they change, so that no cached cost computed under
# other rules is reused (v2: the fee rule applies to coalitions; the grand coalition keeps every rule;
# v3: the grand coalition may use the sites of jurisdictions without demand; v4: with territory
# "all" the existing and required sites of non-members are optional; fee rule text with its unit)
_RULES = "v4-others-plants-optional"


#: Statuses a cached coalition cost is reused with: proofs, which no time limit changes.
FINAL = ("optimal", "infeasible")


def _key(digest: str, coalition: Iterable[str], territory: str, solver: str, gap: float, grand: bool) -> str:
    text = json.dumps([_RULES, digest, sorted(coalition), territory, solver, gap] + (["grand"] if grand else []))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cached(file: Path) -> CoalitionResult | None:
    """The proven (:data:`FINAL`) coalition result stored in ``file``; None when there is none, or
    the file cannot be read as one (damaged, or written by another version: it is solved again)."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        if doc.get("status") not in FINAL:
            return None
        return CoalitionResult(**{**doc, "players": tuple(doc["players"]), "cached": True})
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _solve_one(sc: Scenario, by: str, coalition: tuple[str, ...], territory: Territory, solver: str,
               time_limit: float | None, gap: float, grand: bool = False) -> CoalitionResult:
    from qzopt.api import solve

    t0 = time.perf_counter()
    who = players_of(sc, by)
    # the grand coalition is the scenario itself: it may also use the sites of jurisdictions that
    # take no part in the game (those without demand, in qzopt share)
    jur = set(sc.jurisdictions.index) if grand else set(who.index[who.isin(coalition)])
    sub = restrict(sc, jur, territory)
    if len(sub.demands) == 0 or sub.demands["amount"].sum() == 0:
        return CoalitionResult(coalition, 0.0, "optimal", 0.0, "none", time.perf_counter() - t0)
    res = solve(sub, solver=solver, time_limit=time_limit, gap=gap, isolate=False, explain=False)
    cost = res.objective if res.status in ("optimal", "feasible") else float("inf")
    reason, free_cost = "", None
    if res.status == "feasible":
        reason = "not proven optimal within the time limit: the cost is an upper bound"
    elif res.status == "infeasible" and sub.fees is not None and sub.fees.active:
        # the fee rule or the territory? solve once more without the fee rule to say which
        free = solve(dataclasses.replace(sub, fees=None), solver=solver, time_limit=time_limit, gap=gap,
                     isolate=False, explain=False)
        if free.status in ("optimal", "feasible"):
            free_cost = float(free.objective)
            reason = f"fee cap: cannot keep {fee_rule_text(sc.fees, sc.units)} on its own"
        elif free.status == "infeasible":
            reason = "cannot serve its demand with the sites it may use, fee rule or not" + _why(free)
        else:
            reason = f"infeasible under the fee rule; without it: {free.status} ({free.message or 'no solution'})"
    elif res.status == "infeasible":
        reason = "cannot serve its demand with the sites it may use" + _why(res)
    elif res.status != "optimal":
        reason = f"{res.status}: {res.message or 'no solution'}{UNKNOWN_COST}"
    return CoalitionResult(coalition, float(cost), res.status, res.gap, res.solver, time.perf_counter() - t0,
                           reason=reason, cost_without_fees=free_cost)


#: How the reason of a coalition no solver answered ends.
UNKNOWN_COST = "; the cost is unknown and treated as infinite"


def _why(res) -> str:
    """': <the first reason the pre-solve checks gave>' (and how many more), or nothing."""
    found = list(res.explanation or [])
    if not found:
        return ""
    return f": {found[0].rstrip('.')}" + (f" (and {len(found) - 1} more reason(s))" if len(found) > 1 else "")


def fee_rule_text(rules, units) -> str:
    """The fee rule in words, its cap and objective too ("one uniform fee, costs recovered per
    plant, within max_fee 80 yuan/t (objective: cost)"); ``units``: the scenario's
    :class:`~qzopt.scenario.scenario.Units` (the fee's unit is money per demand unit)."""
    from qzopt.fees import rule_text

    if rules is None or not rules.active:
        return "no fee rule"
    return f"{rule_text(rules, units.fee_unit, cap=True)} (objective: {rules.objective})"


def cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    """The ``coalitions/`` folder of the cache, created if missing: in ``cache_dir``, else in
    ``$QZOPT_CACHE`` (when set and not empty), else in ``~/.cache/qzopt``.  A file where a folder
    should be, or a folder that cannot be made, is a :class:`~qzopt.errors.QzoptError` naming
    where the path came from (``cache_dir``, ``QZOPT_CACHE`` or the default folder)."""
    from qzopt.arguments import output_folder, writable_folder

    if cache_dir is not None:
        return writable_folder(output_folder("coalition_costs", "cache_dir", cache_dir) / "coalitions",
                               "coalition_costs(): cache_dir's")
    env = os.environ.get("QZOPT_CACHE", "")
    if env:
        root, name = Path(env), "QZOPT_CACHE"
    else:
        root, name = Path.home() / ".cache" / "qzopt", "the default cache folder"
    hint = "set QZOPT_CACHE to a folder, or name one with --cache (cache_dir in Python)"
    writable_folder(root, name, hint)
    return writable_folder(root / "coalitions", name, hint)


def coalition_costs(
    sc: Scenario,
    by: str = "group",
    coalitions: Iterable[Iterable[str]] | None = None,
    territory: Territory = "own",
    solver: str | None = None,
    time_limit: float | None = None,
    gap: float = 0.0,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    players: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Solve every coalition (default: all non-empty ones) and return one row per coalition:
    players, cost (money/yr), status, gap, solver, seconds, cached.

    ``players``: the players of the game (default: every value of the grouping ``by``).  Their
    coalition is the grand one, solved as the whole scenario: it may also use the sites of
    jurisdictions outside the game (``qzopt share`` plays only the players with demand).

    Results are cached in ``cache_dir``'s ``coalitions/`` folder (default: ``$QZOPT_CACHE``, else
    ``~/.cache/qzopt``; :func:`cache_folder`) keyed by the scenario's content, the coalition, the
    territory rule and the solver settings; only proven ones (:data:`FINAL`) are reused, so a cost
    a time limit cut short is solved again.
    ``solver`` and ``time_limit`` (seconds per coalition and back end) default to the scenario's.
    """
    territory = check_choice("coalition_costs", "territory", territory, TERRITORIES)
    workers = check_int("coalition_costs", "workers", workers, 1, optional=True, hint="None: one per core")
    players = sorted(players_of(sc, by, "coalition_costs").unique()) if players is None else sorted(players)
    grand = tuple(players)
    if coalitions is None:
        wanted = every_coalition(players, sc, by)
    else:
        wanted = [tuple(sorted(c)) for c in coalitions]
    cache = cache_folder(cache_dir)
    digest = sc.digest()
    time_limit = time_limit if time_limit is not None else sc.solver.time_limit
    solver = solver or sc.solver.name
    results: dict[tuple[str, ...], CoalitionResult] = {}
    todo = []
    for c in wanted:
        f = cache / f"{_key(digest, c, territory, solver, gap, c == grand)}.json"
        hit = _cached(f)
        if hit is not None:
            results[c] = hit
        else:  # not cached, or cached unproven (a time limit stopped it: a longer run may do better)
            todo.append(c)

    def store(r: CoalitionResult) -> None:
        results[r.players] = r
        f = cache / f"{_key(digest, r.players, territory, solver, gap, r.players == grand)}.json"
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(r) | {"players": list(r.players)}))
        tmp.replace(f)  # atomic: an interrupted run never leaves half a file

    workers = workers or max(1, min(len(todo), (os.cpu_count() or 2)))
    if workers > 1 and len(todo) > 1 and not _main_is_guarded():
        warnings.warn("solving the coalitions one at a time: worker processes start by importing the script "
                      f"{sys.modules['__main__'].__file__}, which has no `if __name__ == \"__main__\":` guard, so "
                      "each would run it again (docs/sharing.md)", stacklevel=2)
        workers = 1
    bar = _progress(progress, len(wanted), len(wanted) - len(todo))
    with bar as (advance):
        if workers > 1 and len(todo) > 1:
            import multiprocessing

            try:
                with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                    futures = [pool.submit(_solve_one, sc, by, c, territory, solver, time_limit, gap, c == grand)
                               for c in todo]
                    for fut in as_completed(futures):
                        store(fut.result())
                        advance()
            except BrokenProcessPool:  # a worker could not start or died: what is left is solved here
                warnings.warn("the worker processes stopped; solving the remaining coalitions one at a time",
                              stacklevel=2)
        for c in [c for c in todo if c not in results]:
            store(_solve_one(sc, by, c, territory, solver, time_limit, gap, c == grand))
            advance()
    rows = [dataclasses.asdict(results[c]) for c in wanted]
    frame = pd.DataFrame(rows)
    frame["players"] = frame["players"].map(tuple)
    return frame


def _main_is_guarded() -> bool:
    """Whether worker processes may be started: they begin by importing the main script, which must
    then keep its work under ``if __name__ == "__main__":``.  No script (a notebook, ``python -c``,
    the ``qzopt`` command) is fine, and so is a package's ``__main__`` (``python -m qzopt``), which
    the workers do not run again; a script is read for the guard."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and (spec.name == "__main__" or spec.name.endswith(".__main__")):
        return True
    path = getattr(main, "__file__", None)
    if path is None:
        return True
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:  # e.g. '<stdin>': the workers could not import it either
        return False
    return re.search(r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", text, re.M) is not None


class _progress:
    """A rich progress bar (or nothing) as a context manager yielding an ``advance`` callable."""

    def __init__(self, enabled: bool, total: int, done: int) -> None:
        self.enabled, self.total, self.done = enabled, total, done

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("coalitions"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            transient=False)
        self.bar.start()
        self.task = self.bar.add_task("solve", total=self.total, completed=self.done)
        return lambda: self.bar.advance(self.task)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()


def sharing_game(frame: pd.DataFrame, players: list[str]):
    """A :class:`~qzopt.sharing.game.Game` from a coalition-cost table."""
    from qzopt.sharing.game import Game

    return Game(players, {frozenset(p): c for p, c in zip(frame["players"], frame["cost"])})
