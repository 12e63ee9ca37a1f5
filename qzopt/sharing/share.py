"""``qzopt share``: coalition costs -> allocations -> per-player table with the core check."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzopt.scenario.scenario import Scenario
from qzopt.sharing.coalitions import Territory, coalition_costs, players_of, sharing_game
from qzopt.sharing.game import Game

METHODS = ("proportional", "scrb", "shapley", "nucleolus")


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

    @property
    def grand_cost(self) -> float:
        row = self.coalitions[self.coalitions["players"].map(len) == len(self.players)]
        return float(row["cost"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        def rec(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.reset_index().to_json(orient="records"))

        coal = self.coalitions.assign(players=self.coalitions["players"].map(list),
                                      cost=self.coalitions["cost"].map(lambda c: c if math.isfinite(c) else None))
        return {
            "scenario": self.scenario, "players_by": self.by, "territory": self.territory, "players": self.players,
            "grand_coalition_cost_per_yr": self.grand_cost, "coalition_count": len(self.coalitions),
            "seconds": round(self.seconds, 2),
            "least_core_epsilon": self.least_core_epsilon if math.isfinite(self.least_core_epsilon) else None,
            "core_empty": self.least_core_epsilon > 1e-6 * max(1.0, abs(self.grand_cost)),
            "money_unit": self.units.get("money"), "demand_unit": self.units.get("demand"),
            "allocations": rec(self.allocations), "tables": {m: rec(t) for m, t in self.tables.items()},
            "core_violations": {m: rec(v) for m, v in self.core.items()},
            "coalitions": json.loads(coal.to_json(orient="records")), "notes": self.notes,
        }

    def to_markdown(self) -> str:
        from qzopt.report.markdown import md_table, money

        mu = self.units.get("money", "")
        lines = [f"# Cost sharing: {self.scenario}", "",
                 f"Players: {self.by} ({len(self.players)}); sites usable by a coalition: {self.territory} territory; "
                 f"{len(self.coalitions)} coalitions solved in {self.seconds:.1f} s "
                 f"({int(self.coalitions['cached'].sum())} from cache).", "",
                 f"Grand coalition cost: {money(self.grand_cost)} {mu}/yr.  Least-core epsilon: "
                 f"{money(self.least_core_epsilon)} {mu}/yr ("
                 + ("the core is empty: some coalition always pays more than alone" if self.least_core_epsilon > 1e-6
                    * max(1.0, abs(self.grand_cost)) else "the core is not empty") + ").", ""]
        lines += [f"## Allocations ({mu}/yr)", "", md_table(self.allocations.map(money).reset_index())]
        for m, t in self.tables.items():
            view = t.copy()
            for c in view.columns:
                if c.endswith("_per_yr"):
                    view[c] = view[c].map(money)
            view["saving_pct"] = view["saving_pct"].map(lambda v: f"{v:.1f} %")
            if "fee_per_unit" in view:
                view["fee_per_unit"] = view["fee_per_unit"].map(lambda v: f"{v:,.2f}")
            lines += [f"## {m}", "", md_table(view.reset_index())]
            v = self.core[m]
            lines += ["In the core." if v.empty else f"Not in the core: {len(v)} coalition(s) would pay less alone:", ""]
            if not v.empty:
                vv = v.head(10).copy()
                for c in ("allocated", "stand_alone", "excess"):
                    vv[c] = vv[c].map(money)
                lines += [md_table(vv)]
        lines += [f"## Coalition costs ({mu}/yr)", "",
                  md_table(self.coalitions.assign(players=self.coalitions["players"].map(" + ".join),
                                                  cost=self.coalitions["cost"].map(money))
                           [["players", "cost", "status", "solver", "seconds"]])]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def write(self, outdir: str | Path) -> Path:
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "sharing.json").write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
                                          .replace("NaN", "null"), encoding="utf-8")
        (out / "sharing.md").write_text(self.to_markdown(), encoding="utf-8")
        self.allocations.to_csv(out / "allocations.csv")
        return out


def share(sc: Scenario, by: str = "group", methods: tuple[str, ...] | list[str] = METHODS,
          territory: Territory = "own", solver: str = "auto", time_limit: float | None = None,
          workers: int | None = None, cache_dir: str | Path | None = None, progress: bool = True) -> SharingResult:
    """Solve the coalitions the methods need and allocate the grand coalition's cost."""
    t0 = time.perf_counter()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)} or all")
    who = players_of(sc, by)
    volume = sc.demands.groupby(sc.demands["jurisdiction"].map(who))["amount"].sum()
    players = sorted(volume.index)  # players with demand
    # every coalition: Shapley and the nucleolus need them all, and so does the core check
    frame = coalition_costs(sc, by, None, territory, solver, time_limit, 0.0, workers, cache_dir, progress)
    frame = frame[frame["players"].map(lambda p: set(p) <= set(players))].reset_index(drop=True)
    game = sharing_game(frame, players)
    notes = []
    bad = frame[~frame["status"].isin(["optimal"])]
    if len(bad):
        notes.append(f"{len(bad)} coalition(s) could not serve themselves or were not proven optimal: "
                     + ", ".join(" + ".join(p) for p in bad["players"].head(8)))
    allocations = {}
    for m in methods:
        try:
            if m == "proportional":
                allocations[m] = game.proportional(volume.reindex(players))
            elif m == "scrb":
                allocations[m] = game.scrb()
            elif m == "shapley":
                val = game.shapley()
                allocations[m] = val if isinstance(val, pd.Series) else val["shapley"]
            else:
                allocations[m] = game.nucleolus()
        except ValueError as exc:
            notes.append(f"{m}: {exc}")
    alloc = pd.DataFrame(allocations)
    alloc.index.name = "player"
    per_year = sc.units.per_year
    tables = {m: game.table(alloc[m], volume, per_year) for m in alloc.columns}
    core = {m: game.core_violations(alloc[m]) for m in alloc.columns}
    try:
        eps = float(game.least_core().attrs["epsilon"])
    except ValueError as exc:
        eps = float("nan")
        notes.append(f"least core: {exc}")
    return SharingResult(sc.name, by, territory, players, frame, alloc, tables, core, eps, volume.reindex(players),
                         {"money": sc.units.money, "demand": sc.units.demand, "per_year": per_year},
                         time.perf_counter() - t0, notes)
