"""``qzopt share``: coalition costs -> allocations -> per-player table with the core check."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzopt import __version__
from qzopt.arguments import ArgumentError, bad_argument, check_choice, check_int, output_folder
from qzopt.errors import QzoptError, closest, few_names
from qzopt.units import money_per_unit
from qzopt.scenario.scenario import Scenario
from qzopt.sharing.coalitions import (MAX_PLAYERS, TERRITORIES, UNKNOWN_COST, Territory, coalition_costs,
                                     every_coalition, fee_rule_text, grouping_hint, players_of, sharing_game)
from qzopt.sharing.game import UnboundedLeastCore, sample_orders

METHODS = ("proportional", "scrb", "shapley", "nucleolus")


def coalition_label(members: tuple[str, ...] | list[str], players: list[str]) -> str:
    """A coalition as tables and notes show it: "A + B"; "all but C and D" when it leaves out fewer
    players than it holds (with 33 counties, the coalitions of all but one are 32 names long)."""
    out = [p for p in players if p not in set(members)]
    if len(players) > 3 and len(out) < len(members):
        return "all" if not out else "all but " + (out[0] if len(out) == 1 else f"{', '.join(out[:-1])} and {out[-1]}")
    return " + ".join(members)


@dataclass
class SharingResult:
    """Allocations of the grand coalition's cost (money per year) among players."""

    scenario: str
    by: str
    territory: str
    players: list[str]
    coalitions: pd.DataFrame  # players, cost, status, gap, solver, seconds, cached
    allocations: pd.DataFrame  # player x method, money/yr
    tables: dict[str, pd.DataFrame]  # method -> per-player table
    core: dict[str, pd.DataFrame]  # method -> violated coalitions
    least_core_epsilon: float
    volume: pd.Series  # demand per player, units.demand
    units: dict[str, Any]
    seconds: float
    notes: list[str] = field(default_factory=list)
    fee_rule: dict[str, Any] | None = None  # the scenario's fee rule, which every coalition plans under
    least_core_note: str = ""  # why the least core is undefined (when epsilon is NaN)
    sector: str = "facility"  # the scenario's sector (a report refuses a sharing of another one)
    core_complete: bool = True  # every coalition solved; False: the core check covers only those solved
    source: str = ""  # the scenario file it was computed from ("" for a scenario built in Python)
    version: str = ""  # the qzopt version that computed it
    scenario_digest: str = ""  # Scenario.digest() of what was shared (a report refuses it beside another scenario's result)
    overrides: dict[str, Any] = field(default_factory=dict)  # what --set changed in the file for this run
    core_unbounded: bool = False  # the finite coalitions do not bound the allocation: the core is not empty

    def provenance_line(self) -> str:
        """Which file and qzopt version the sharing comes from, for sharing.md."""
        made = f"qzopt {self.version}" if self.version else "qzopt"
        return (f"Computed by {made} from `{self.source}`" if self.source else f"Computed by {made}") + \
            "; the times below depend on the machine and its load."

    def core_line(self, method: str) -> str:
        """The core test of one method's allocation, in words."""
        from qzopt.report.markdown import money, partial_core_line

        v = self.core[method]
        if v.empty:
            return "in the core" if self.core_complete else partial_core_line(len(self.coalitions) - 1)
        return f"NOT in the core ({len(v)} coalition(s) pay more than alone, worst by {money(v['excess'].iloc[0])})"

    @property
    def grand_cost(self) -> float:
        row = self.coalitions[self.coalitions["players"].map(len) == len(self.players)]
        return float(row["cost"].iloc[0])

    @property
    def core_empty(self) -> bool | None:
        """True / False when the least core was computed; False too when it is undefined because
        the coalitions with finite cost do not bound the allocation (then allocations exist that no
        coalition would leave); None (unknown) when it was not computed."""
        if self.core_unbounded:
            return False
        if not math.isfinite(self.least_core_epsilon):
            return None
        return bool(self.least_core_epsilon > 1e-6 * max(1.0, abs(self.grand_cost)))

    @property
    def core_status(self) -> str:
        """Whether the core is empty, in words, with the reason when it is unknown."""
        empty = self.core_empty
        if empty is None:
            why = self.least_core_note or "the least core was not computed"
            return f"unknown, not tested: {why}"
        text = ("empty: some coalition always pays more than alone" if empty
                else "not empty: there are allocations no coalition would leave"
                + (" (the coalitions with finite cost do not bound the allocation, so there are many; the least core "
                   "and the nucleolus are undefined)" if self.core_unbounded else ""))
        unproven = int((~self.coalitions["status"].isin(["optimal", "infeasible"])).sum())
        if unproven:
            text += (f" (on the costs found: {unproven} coalition cost(s) are not proven optimal, "
                     "so this is not certain)")
        return text

    @property
    def solvers(self) -> list[str]:
        """The solvers that produced the coalition costs ("none": a coalition without demand)."""
        return sorted(set(self.coalitions["solver"]) - {"none"}) or ["none"]

    def stand_alone_text(self, player: str) -> str:
        """A player's stand-alone cost as shown: the money figure, or why there is none."""
        row = self.coalitions[self.coalitions["players"].map(lambda p: tuple(p) == (player,))]
        if row.empty:
            return "n/a (not solved)"
        cost, reason = float(row["cost"].iloc[0]), str(row["reason"].iloc[0] if "reason" in row else "")
        from qzopt.report.markdown import money, no_stand_alone

        if math.isfinite(cost):
            return money(cost)
        return no_stand_alone(str(row["status"].iloc[0]), reason, infinite=True)

    def gap_summary(self) -> str:
        gaps = self.coalitions["gap"].dropna()
        return "n/a" if gaps.empty else f"{100 * float(gaps.max()):.2f} %"

    def to_dict(self) -> dict[str, Any]:
        def rec(frame: pd.DataFrame) -> list[dict]:
            # the players' index is a column; a plain row number (core violations) is not one
            return json.loads(frame.reset_index(drop=frame.index.name is None).to_json(orient="records"))

        def finite(c):
            return c if c is not None and math.isfinite(c) else None

        coal = self.coalitions.assign(players=self.coalitions["players"].map(list),
                                      cost=self.coalitions["cost"].map(finite))
        if "cost_without_fees" in coal:
            coal["cost_without_fees"] = coal["cost_without_fees"].map(lambda c: None if pd.isna(c) else finite(c))
        return {
            "scenario": self.scenario, "sector": self.sector, "source": self.source, "qzopt_version": self.version,
            "scenario_digest": self.scenario_digest, "overrides": self.overrides,
            "players_by": self.by, "territory": self.territory,
            "players": self.players,
            "grand_coalition_cost_per_yr": finite(self.grand_cost), "coalition_count": len(self.coalitions),
            "fee_rule": self.fee_rule, "solver": ", ".join(self.solvers), "max_gap": finite(
                float(self.coalitions["gap"].max())) if self.coalitions["gap"].notna().any() else None,
            "seconds": round(self.seconds, 2),
            "least_core_epsilon": self.least_core_epsilon if math.isfinite(self.least_core_epsilon) else None,
            "core_empty": self.core_empty, "core_status": self.core_status,
            "core_check": "complete" if self.core_complete else "partial",
            "money_unit": self.units.get("money"), "demand_unit": self.units.get("demand"),
            "allocations": rec(self.allocations), "tables": {m: rec(t) for m, t in self.tables.items()},
            "core_violations": {m: rec(v) for m, v in self.core.items()},
            "coalitions": json.loads(coal.to_json(orient="records")), "notes": self.notes,
        }

    def headers(self) -> dict[str, str]:
        """The per-method table's columns as sharing.md shows them, with units: "saving (yuan/yr)",
        "saving (%)", "allocated cost per unit (yuan/t)" (money per demand unit: not the fee)."""
        mu = self.units.get("money", "")
        out = {"saving_pct": "saving (%)", "individually_rational": "individually rational",
               "allocated_cost_per_unit":
                   f"allocated cost per unit ({money_per_unit(mu, str(self.units.get('demand', '')))})"}
        columns = {c for t in self.tables.values() for c in t.columns}
        for name in sorted(c for c in columns if c.endswith("_per_yr")):
            words = name[:-len("_per_yr")].replace("_", " ").replace("stand alone", "stand-alone")
            out[name] = f"{words} ({mu}/yr)"
        return out

    def to_markdown(self) -> str:
        from qzopt.report.markdown import md_table, money, points

        mu = self.units.get("money", "")
        lines = [f"# Cost sharing: {self.scenario}", "", self.provenance_line(), "",
                 f"Players: {self.by} ({len(self.players)}); sites usable by a coalition: {self.territory} territory; "
                 f"{len(self.coalitions)} coalitions solved in {self.seconds:.1f} s "
                 f"({int(self.coalitions['cached'].sum())} from cache).", "",
                 f"Solver: {', '.join(self.solvers)}; statuses: {self.status_counts()}; largest gap "
                 f"{self.gap_summary()}; solve time {self.coalitions['seconds'].sum():.1f} s in all.", "",
                 f"Fee rule: {self.fee_rule_line()}", "",
                 f"Grand coalition cost: {money(self.grand_cost)} {mu}/yr.", "",
                 f"Least-core epsilon: {money(self.least_core_epsilon)}"
                 + (f" {mu}/yr" if math.isfinite(self.least_core_epsilon) else "")
                 + f".  Core: {self.core_status}.", ""]
        lines += [f"## Allocations ({mu}/yr)", "", METHODS_NOTE, "", md_table(self.allocations.map(money).reset_index())]
        for m, t in self.tables.items():
            view = t.copy()
            for c in view.columns:
                if c.endswith("_per_yr"):
                    view[c] = view[c].map(money)
            view["saving_pct"] = view["saving_pct"].map(lambda v: points(v, 1))  # no "-0.0 %"
            view["stand_alone_cost_per_yr"] = [self.stand_alone_text(p) for p in view.index]
            view.loc[~np.isfinite(t["stand_alone_cost_per_yr"].to_numpy(float)), "saving_per_yr"] = "n/a"
            if "allocated_cost_per_unit" in view:
                view["allocated_cost_per_unit"] = view["allocated_cost_per_unit"].map(lambda v: f"{v:,.2f}")
            if "individually_rational" in view:  # yes / no, not Python's True / False
                view["individually_rational"] = view["individually_rational"].map({True: "yes", False: "no"})
            lines += [f"## {m}", "", md_table(view.rename(columns=self.headers()).reset_index())]
            v, said = self.core[m], self.core_line(m)
            lines += [(said[:1].upper() + said[1:] + ".") if v.empty
                      else f"Not in the core: {len(v)} coalition(s) would pay less alone"
                      + (f"; the {SHOWN_VIOLATIONS} with the largest excess (all {len(v)} in sharing.json, "
                         "`core_violations`):" if len(v) > SHOWN_VIOLATIONS else ":"), ""]
            if not v.empty:
                vv = v.head(SHOWN_VIOLATIONS).copy()
                vv["coalition"] = vv["coalition"].map(lambda t: coalition_label(t.split(" + "), self.players))
                for c in ("allocated", "stand_alone", "excess"):
                    vv[c] = vv[c].map(money)
                lines += [md_table(vv.rename(columns={c: f"{c.replace('_', '-')} ({mu}/yr)"
                                                      for c in ("allocated", "stand_alone", "excess")}))]
        lines += [f"## Coalition costs ({mu}/yr)", "", f"Solver: {', '.join(self.solvers)}.", "",
                  md_table(self.coalition_view())]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def status_counts(self) -> str:
        counts = self.coalitions["status"].value_counts()
        return ", ".join(f"{int(v)} {k}" for k, v in counts.items())

    def fee_rule_line(self) -> str:
        if not self.fee_rule:
            return "none in the scenario."
        return (f"every coalition, alone as together, plans under the scenario's fee rule: {self.fee_rule['text']}; "
                "the grand-coalition cost is `qzopt solve`'s objective.  A coalition that cannot keep its fee "
                "within the cap on its own has no stand-alone cost (infinite): it constrains nothing in the core, "
                "nucleolus and least core, and Shapley and SCRB cannot be computed with it.")

    def coalition_view(self) -> pd.DataFrame:
        """The coalition table as shown: players, cost, status, gap, seconds, why (and solver if several)."""
        from qzopt.report.markdown import money

        c = self.coalitions
        view = pd.DataFrame({
            "players": c["players"].map(lambda m: coalition_label(m, self.players)),
            "cost": c["cost"].map(lambda v: money(v) if math.isfinite(v) else "none (see why)"),
            "status": c["status"],
            "gap": c["gap"].map(lambda g: "n/a" if g is None or pd.isna(g) else f"{100 * g:.2f} %"),
            "seconds": c["seconds"].map(lambda t: f"{t:.2f}") + np.where(c["cached"], " (cache)", ""),
        })
        if len(self.solvers) > 1:
            view["solver"] = c["solver"]
        if "reason" in c and (c["reason"].fillna("") != "").any():
            free = c["cost_without_fees"] if "cost_without_fees" in c else pd.Series(np.nan, index=c.index)
            view["why"] = [r + (f" (without the fee rule: {money(f)})" if f is not None and pd.notna(f) else "")
                           for r, f in zip(c["reason"].fillna(""), free)]
        return view

    def print_console(self, console) -> None:
        """The summary ``qzopt share`` prints: per player the stand-alone cost and every allocation
        (money figures are never cut: the table is as wide as they need, whatever the console's
        width), the fee rule, the solver facts, the core test and the notes."""
        from rich.measure import Measurement
        from rich.table import Table

        from qzopt.report.markdown import money

        mu = self.units.get("money", "")
        # the title is a line of its own: as the table's title rich wrapped it at the table's width
        console.print(f"{self.scenario}: {len(self.coalitions)} coalitions in {self.seconds:.1f} s; grand "
                      f"coalition (the shared plan) {money(self.grand_cost)} {mu}/yr", soft_wrap=True)
        t = Table()
        t.add_column("player", no_wrap=True)
        t.add_column(f"alone ({mu}/yr)", justify="right", no_wrap=True)
        for m in self.allocations.columns:
            t.add_column(f"{m} ({mu}/yr)", justify="right", no_wrap=True)
        for p in self.players:
            t.add_row(str(p), self.stand_alone_text(p), *[money(self.allocations.loc[p, m])
                                                          for m in self.allocations.columns])
        need = Measurement.get(console, console.options.update_width(10_000), t).maximum
        if need > console.width:  # rich would shrink (and cut) the columns: render at the width they need
            t.width = need
            console.print(t, crop=False)
        else:
            console.print(t)
        console.print(f"fee rule: {self.fee_rule_line()}", soft_wrap=True)
        console.print(f"solver: {', '.join(self.solvers)}; coalitions: {self.status_counts()}; largest gap "
                      f"{self.gap_summary()}; {self.coalitions['seconds'].sum():.1f} s of solves", soft_wrap=True)
        for m in self.core:
            console.print(f"{m}: {self.core_line(m)}", soft_wrap=True)
        eps = self.least_core_epsilon
        console.print(f"least-core epsilon: {money(eps)}" + (f" {mu}/yr" if math.isfinite(eps) else "")
                      + f"; core: {self.core_status}", soft_wrap=True)
        for n in self.notes:
            console.print(f"note: {n}", soft_wrap=True)

    def write(self, outdir: str | Path) -> Path:
        out = output_folder("SharingResult.write", "outdir", outdir)
        (out / "sharing.json").write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
                                          .replace("NaN", "null"), encoding="utf-8")
        (out / "sharing.md").write_text(self.to_markdown(), encoding="utf-8")
        # money columns are named with their period, as in the plan's tables ("shapley_cost_per_yr")
        self.allocations.add_suffix("_cost_per_yr").to_csv(out / "allocations.csv")
        return out


#: What each allocation method does, for sharing.md (planners choose among them).
METHODS_NOTE = (
    "How each method splits the grand coalition's cost: **proportional** by each player's demand (one cost per "
    "unit for all); **scrb** (separable costs, remaining benefits) charges each player the cost it adds to the "
    "others and splits the rest by what each saves over going alone; **shapley** charges each player its extra "
    "cost averaged over every order in which the players could join; **nucleolus** makes the largest overcharge "
    "of any coalition against its stand-alone cost as small as it can, and so lies in the core whenever the core "
    "is not empty.  An allocation in the core leaves no group of players better off planning alone; the tables "
    "below say, per method, whether it is.")

#: Core violations sharing.md lists per method (the largest excesses first; sharing.json has all).
SHOWN_VIOLATIONS = 10

#: the most plans a sampled Shapley estimate may need beyond 15 players (orders x (players - 2)):
#: about a day at a second each
MAX_SAMPLED_PLANS = 100_000


@dataclass
class Plan:
    """Which coalitions a sharing run solves, and what it can then compute."""

    coalitions: list[tuple[str, ...]]  # sorted tuples, the grand coalition among them
    methods: list[str]  # the methods that will be computed
    every: bool  # every coalition: the core check and the least core are complete
    notes: list[str]  # methods left out, and why


def plan_coalitions(players: list[str], methods: tuple[str, ...] | list[str], samples: int | None = None,
                    seed: int = 0, sc: Scenario | None = None, by: str = "group") -> Plan:
    """The coalitions the methods need.  Up to :data:`~qzopt.sharing.coalitions.MAX_PLAYERS`
    players: every one (Shapley and the nucleolus need them all, and so do the core check and the
    least core).  With more, only what the methods need: the grand coalition and every player
    alone (stand-alone costs and individual rationality) for ``proportional``; the coalitions of
    all but one for ``scrb``; the first k players of each of ``samples`` random joining orders for
    a sampled ``shapley``.  The nucleolus, the least core and a complete core check need every
    coalition and are left out with a note; Shapley is left out unless ``samples`` is given.
    Raises :class:`QzoptError` when none of the methods asked for can be computed."""
    n = len(players)
    if n <= MAX_PLAYERS:
        return Plan(every_coalition(players, sc, by), list(methods), True, [])
    why, kept = {}, []
    for m in methods:
        if m == "nucleolus":
            why[m] = (f"it needs every coalition ({2 ** n - 1:,} with {n} players); it is computed for up to "
                      f"{MAX_PLAYERS} players")
        elif m == "shapley" and samples is None:
            why[m] = (f"with {n} players it is estimated over random joining orders, each solving up to {n - 2} "
                      "more coalitions; ask for it with a number of orders (--samples N, samples=N in Python)")
        else:
            kept.append(m)
    if not kept:
        raise QzoptError(f"{n} players ({by}): " + "; ".join(f"{m} is not computed: {w}" for m, w in why.items())
                         + f".  With any number of players proportional and scrb are computed (from {n + 1} and "
                         f"{2 * n + 1} coalitions).  {grouping_hint(sc, by)}")
    if "shapley" in kept and samples * (n - 2) > MAX_SAMPLED_PLANS:
        raise QzoptError(f"{samples:,} joining orders of {n} players need up to {samples * (n - 2):,} plans for the "
                         f"Shapley estimate, more than {MAX_SAMPLED_PLANS:,}: use fewer orders (its standard error "
                         "shrinks as one over the square root of their number), or group the players")
    notes = [f"{m}: not computed: {w}" for m, w in why.items()]
    grand = tuple(sorted(players))
    wanted = [(p,) for p in grand] + [grand]
    if "scrb" in kept:
        wanted += [tuple(q for q in grand if q != p) for p in grand]
    if "shapley" in kept:
        for order in sample_orders(n, samples, seed):
            wanted += [tuple(sorted(players[k] for k in order[:r])) for r in range(2, n)]
    wanted = sorted(set(wanted), key=lambda c: (len(c), c))
    notes.append(f"core check: only over the {len(wanted) - 1:,} coalitions solved besides the grand one (of {2 ** n - 2:,}): a coalition "
                 "it names does pay more than alone, but none named proves nothing; the least core is not computed")
    return Plan(wanted, kept, False, notes)


def method_names(methods: object, flag: str | None = None) -> list[str]:
    """The allocation methods ``methods`` asks for: one name, several joined by commas
    ("shapley,scrb", as ``--method`` takes them) or "all", or a list or tuple of names; anything
    else, or a name not in :data:`METHODS`, is an :class:`~qzopt.arguments.ArgumentError` naming
    ``methods`` - or naming ``flag`` ("--method banzhaf: ..."), for the command line."""
    given = methods
    if isinstance(methods, str):  # one method, not a list of letters
        methods = METHODS if methods.strip() == "all" else [m.strip() for m in methods.split(",") if m.strip()]
    choose = f"choose from {', '.join(METHODS)}, or 'all'"

    def refuse(problem: str) -> ArgumentError:
        if flag:
            return ArgumentError(f"{flag} {given or repr(given)}: {problem}")
        return bad_argument("share", "methods", given, problem)

    if not isinstance(methods, (list, tuple)):
        raise refuse(f"must be a method's name or a list of them; {choose}")
    unknown = [m for m in methods if not isinstance(m, str) or m not in METHODS]
    if unknown or not methods:
        near = [n for m in unknown if isinstance(m, str) and (n := closest(m, METHODS))]
        said = "names no method" if not unknown else f"{few_names(map(repr, unknown))} " + (
            "is not a method" if len(unknown) == 1 else "are not methods")
        raise refuse(f"{said}; {choose}" + (f" (did you mean {', '.join(map(repr, near))}?)" if near else ""))
    return list(dict.fromkeys(methods))


def _grand_or_raise(sc: Scenario, frame: pd.DataFrame, grand: tuple[str, ...], solver: str | None,
                    time_limit: float | None) -> None:
    """Nothing when the grand coalition (the whole scenario) has a plan, whose cost (money/yr) is
    what is shared; else :class:`~qzopt.errors.InfeasibleError` (CLI exit 3) with the reason a
    solve gives (the scenario is solved once more, with ``explain``, to find it), or
    :class:`~qzopt.errors.SolverError` (exit 4) when no solver answered within ``time_limit``
    (seconds per back end)."""
    from qzopt.api import plan_or_raise, solve
    from qzopt.errors import SolverError

    rows = frame[[tuple(p) == grand for p in frame["players"]]]
    what = "the whole scenario (the grand coalition, whose cost is to be shared)"
    if rows.empty or rows.iloc[0]["status"] in ("optimal", "feasible"):
        return
    row = rows.iloc[0]
    if row["status"] == "infeasible":
        plan_or_raise(solve(sc, solver=solver, time_limit=time_limit, gap=0.0, isolate=False), what)
    why = str(row["reason"] or "").removesuffix(UNKNOWN_COST).removeprefix(f"{row['status']}: ")
    raise SolverError(f"{what} has no plan (status {row['status']}): {why or 'no solver answered'}")


def share(sc: Scenario | str | os.PathLike, by: str = "group", methods: str | tuple[str, ...] | list[str] = METHODS,
          territory: Territory = "own", solver: str | None = None, time_limit: float | None = None,
          workers: int | None = None, cache_dir: str | Path | None = None, progress: bool = True,
          samples: int | None = None, seed: int = 0) -> SharingResult:
    """Solve the coalitions the methods need (:func:`plan_coalitions`) and allocate the grand
    coalition's cost.  ``samples``: estimate Shapley over that many random joining orders (drawn
    with ``seed``) instead of exactly (exact up to 10 players, 2,000 orders from every coalition's
    cost up to 15; with more players Shapley is computed only when ``samples`` is given).
    ``solver`` and ``time_limit`` (seconds per coalition and back end) default to the scenario's
    ``solver`` block; every coalition is solved to a zero gap (its cost is exact or marked).
    ``territory``: the sites a coalition may use alone, its own (``"own"``) or every one
    (``"all"``: another jurisdiction's existing or required plant is then an ordinary candidate,
    which it may use but need not run).

    ``sc`` may be the path of a scenario file, as for :func:`qzopt.solve`; ``methods`` one name,
    several joined by commas ("shapley,scrb", as on the command line) or ``"all"``, or a list of
    names.  An argument it cannot use is an :class:`~qzopt.arguments.ArgumentError` naming it."""
    from qzopt.api import scenario_of

    t0 = time.perf_counter()
    sc = scenario_of("share", sc)
    methods = method_names(methods)
    territory = check_choice("share", "territory", territory, TERRITORIES)
    samples = check_int("share", "samples", samples, 2, 1_000_000, optional=True,
                        hint="a standard error needs two orders; None: exact where it can be")
    seed = check_int("share", "seed", seed, 0)
    workers = check_int("share", "workers", workers, 1, optional=True, hint="None: one per core")
    who = players_of(sc, by, "share")
    volume = sc.demands.groupby(sc.demands["jurisdiction"].map(who))["amount"].sum()
    players = sorted(volume.index)  # players with demand
    plan = plan_coalitions(players, methods, samples, seed, sc, by)
    frame = coalition_costs(sc, by, plan.coalitions, territory, solver, time_limit, 0.0, workers, cache_dir, progress,
                            players)
    _grand_or_raise(sc, frame, tuple(players), solver, time_limit)
    game = sharing_game(frame, players)
    game.name_of = lambda s: coalition_label([p for p in players if p in s], players)  # as the tables name it
    if not plan.every:  # the nucleolus and the least core are not computed here
        game.advice = ("let every coalition use any site (--territory all, territory=\"all\") or " if territory == "own"
                       else "") + f"group the players, so that at most {MAX_PLAYERS} take part and the nucleolus is computed"
    notes = list(plan.notes)
    reason = frame["reason"].fillna("") if "reason" in frame else pd.Series("", index=frame.index)

    def names(rows: pd.DataFrame) -> str:
        return few_names((coalition_label(p, players) for p in rows["players"]), 8)

    capped = frame[reason.str.startswith("fee cap")]
    if len(capped):
        notes.append(f"{len(capped)} coalition(s) cannot keep {fee_rule_text(sc.fees, sc.units)} on their own, though they "
                     f"could serve themselves without the fee rule: {names(capped)}; their stand-alone cost is "
                     "infinite (no alternative within the rule); the coalition table of sharing.md says why for each")
    alone = frame[(frame["status"] == "infeasible") & ~reason.str.startswith("fee cap")]
    if len(alone):
        notes.append(f"{len(alone)} coalition(s) cannot serve their demand with the sites they may use "
                     f"({territory} territory), so their stand-alone cost is infinite: {names(alone)}")
    unproven = frame[~frame["status"].isin(["optimal", "infeasible"])]
    if len(unproven):
        notes.append(f"{len(unproven)} coalition(s) were not proven optimal (status feasible: the cost is an upper "
                     f"bound; otherwise unknown and treated as infinite): {names(unproven)}")
    if plan.every and {"scrb", "shapley"} & set(plan.methods):
        try:  # what scrb and shapley suggest when costs are infinite must itself be defined
            game.least_core()
        except ValueError:
            game.advice = ("the nucleolus and the least core, which ignore them, are undefined here too: "
                           + ("let coalitions use every site (--territory all) or " if territory == "own" else "")
                           + "group the players")
    allocations, spread = {}, None
    for m in plan.methods:
        try:
            if m == "proportional":
                allocations[m] = game.proportional(volume.reindex(players))
            elif m == "scrb":
                allocations[m] = game.scrb()
            elif m == "shapley":
                val = game.shapley(samples, seed)
                if isinstance(val, pd.DataFrame):  # sampled: say how closely
                    worst = val["std_error"].idxmax()
                    orders = 2000 if samples is None else samples
                    notes.append(f"shapley: estimated over {orders:,} random joining orders (seed {seed}); "
                                 f"largest standard error {val['std_error'].max():,.0f} (player {worst}); each "
                                 "player's standard error and 95 % interval are in the shapley table of sharing.md "
                                 "and sharing.json")
                    spread = val[["std_error", "ci95_low", "ci95_high"]].add_suffix("_per_yr")
                    val = val["shapley"]
                allocations[m] = val
            else:
                allocations[m] = game.nucleolus()
        except ValueError as exc:
            notes.append(f"{m}: {exc}")
    alloc = pd.DataFrame(allocations)
    alloc.index.name = "player"
    per_year = sc.units.per_year
    tables = {m: game.table(alloc[m], volume, per_year) for m in alloc.columns}
    if spread is not None and "shapley" in tables:  # a sampled estimate: how close
        tables["shapley"] = tables["shapley"].join(spread)
    core = {m: game.core_violations(alloc[m]) for m in alloc.columns}
    lc_note, eps, unbounded = "", float("nan"), False
    if not plan.every:
        lc_note = f"it needs every coalition, and {len(frame):,} of {2 ** len(players) - 1:,} were solved"
    else:
        try:
            eps = float(game.least_core().attrs["epsilon"])
        except ValueError as exc:
            lc_note, unbounded = str(exc), isinstance(exc, UnboundedLeastCore)
            notes.append(f"least core: {exc}")
    rules = sc.fees if sc.fees is not None and sc.fees.active else None
    fee_rule = None if rules is None else {
        "mode": rules.mode, "band": rules.band if rules.mode == "banded" else None, "recovery": rules.recovery,
        "max_fee": rules.max_fee, "subsidy_per_unit": rules.subsidy_per_unit, "objective": rules.objective,
        "applied_to_coalitions": True, "text": fee_rule_text(rules, sc.units)}
    return SharingResult(sc.name, by, territory, players, frame, alloc, tables, core, eps, volume.reindex(players),
                         {"money": sc.units.money, "demand": sc.units.demand, "per_year": per_year},
                         time.perf_counter() - t0, notes, fee_rule, lc_note, sc.sector, plan.every,
                         source=str(sc.source) if sc.source else "", version=__version__,
                         scenario_digest=sc.digest(), overrides=dict(sc.extras.get("overrides") or {}),
                         core_unbounded=unbounded)
