"""Cost-sharing games: who pays what for a shared plan.

A :class:`Game` has players and a cost function c(S) for coalitions S (money per year): the
cost S would bear serving only itself.  Allocations x split c(N) among the players.  Every method
returns a pandas Series indexed by player (or a DataFrame where it says so).

Conventions for *cost* games: the excess of S at x is e(S, x) = x(S) - c(S), what S pays beyond
its stand-alone cost; x is in the core when no excess is positive.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from qzopt.arguments import bad_argument, check_int
from qzopt.errors import few, few_names

Coalition = frozenset


def sample_orders(n: int, samples: int, seed: int = 0) -> list[np.ndarray]:
    """The random joining orders (permutations of 0..n-1) a sampled Shapley value averages over:
    the same ``seed`` gives the same orders, so the coalitions they need can be solved first."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(samples)]


def _braced(coalition: Iterable) -> str:
    """A coalition as a message names it: ``{A, B}``."""
    return "{" + ", ".join(sorted(map(str, coalition))) + "}"


class MissingCoalition(KeyError):
    """A method needs the cost of a coalition the game does not have."""

    def __init__(self, method: str, missing: list[frozenset], needed: int = 0, have: int = 0) -> None:
        if needed:
            super().__init__(f"{method} needs the cost of every coalition ({needed:,}), and the game has "
                             f"{have:,} of them")
        else:
            names = few_names(map(_braced, missing))
            super().__init__(f"{method} needs the cost of coalition(s) {names}, which the game lacks")


class UnboundedLeastCore(ValueError):
    """The coalitions with finite cost do not bound the allocation: the least core and the
    nucleolus are undefined, and the core is not empty (allocations exist with every finite
    coalition's excess as low as one likes)."""


class Game:
    """A cooperative cost game.

    ``cost`` maps frozensets of players to costs, or is a callable computing them on demand
    (results are cached).  The empty coalition costs 0.
    """

    #: what a method that needs finite costs suggests instead when some are infinite
    advice = "use the nucleolus, which ignores them"
    #: how messages name a coalition ("{A, B}"; qzopt's share() names them as its tables do, "A + B")
    name_of: Callable[[frozenset], str] = staticmethod(_braced)

    def __init__(self, players: Sequence, cost: Mapping[frozenset, float] | Callable[[frozenset], float]) -> None:
        self.players = list(players)
        twice = [p for p, k in Counter(self.players).items() if k > 1]
        if twice:
            raise bad_argument("Game", "players", players, f"must be distinct: {few_names(map(repr, twice))} "
                               "given more than once")
        self._fn = cost if callable(cost) else None
        self._table: dict[frozenset, float] = {} if callable(cost) else {frozenset(k): float(v) for k, v in cost.items()}
        self._table.setdefault(frozenset(), 0.0)
        unknown = {p for s in self._table for p in s} - set(self.players)
        if unknown:
            raise bad_argument("Game", "cost", ..., f"coalitions name players not in players: "
                               f"{few(sorted(map(str, unknown)))}")
        self._no_nan([s for s, v in self._table.items() if math.isnan(v)])

    @staticmethod
    def _no_nan(coalitions: list[frozenset]) -> None:
        """Refuse coalitions whose cost is NaN: not a number is not an infinite cost (one that
        cannot serve itself: ``math.inf``), and the methods would read it as one."""
        if coalitions:
            raise bad_argument("Game", "cost", ..., f"coalition(s) {few_names(map(_braced, coalitions))} have no "
                               "number (NaN) as cost; give each a number, math.inf where a coalition cannot serve "
                               "itself")

    @property
    def n(self) -> int:
        return len(self.players)

    @property
    def grand(self) -> frozenset:
        return frozenset(self.players)

    def has(self, s: Iterable) -> bool:
        return self._fn is not None or frozenset(s) in self._table

    def cost(self, s: Iterable) -> float:
        """c(S), money per year."""
        s = frozenset(s)
        if s not in self._table:
            if self._fn is None:
                raise MissingCoalition("this method", [s])
            value = float(self._fn(s))
            self._no_nan([s] if math.isnan(value) else [])
            self._table[s] = value
        return self._table[s]

    def _need_every(self, method: str) -> None:
        """Raise :class:`MissingCoalition` unless the game has every coalition, without listing
        2^n coalitions when a table game plainly lacks some (e.g. 33 players, 67 costs)."""
        if self._fn is None and len(self._table) < 2 ** self.n:  # the table holds the empty coalition too
            if self.n > 15:  # listing the missing ones would take seconds and gigabytes
                raise MissingCoalition(method, [], needed=2 ** self.n - 1, have=len(self._table) - 1)
            self._need(method, self.coalitions(proper=False))

    def _need(self, method: str, coalitions: Iterable[frozenset]) -> None:
        missing = [frozenset(s) for s in coalitions if not self.has(s)]
        if missing:
            raise MissingCoalition(method, missing)

    def _finite(self, method: str, coalitions: Iterable[frozenset]) -> None:
        bad = list(dict.fromkeys(frozenset(s) for s in coalitions if not math.isfinite(self.cost(s))))  # once each
        if bad:
            names = few_names(map(self.name_of, bad))
            raise ValueError(f"{method} needs finite costs, but coalition(s) {names} have an infinite "
                             f"cost (they cannot serve themselves, or not within the fee rule); {self.advice}")

    def coalitions(self, proper: bool = True) -> list[frozenset]:
        """All non-empty coalitions (without the grand coalition when ``proper``)."""
        out = []
        for r in range(1, self.n + (0 if proper else 1)):
            out += [frozenset(c) for c in itertools.combinations(self.players, r)]
        return out

    def known_coalitions(self) -> list[frozenset]:
        """The proper non-empty coalitions whose cost the game has (all of them when ``cost`` is
        a callable), in the order of :meth:`coalitions`: by size, then by the players' order."""
        if self._fn is not None:
            return self.coalitions()
        pos = {p: k for k, p in enumerate(self.players)}
        known = [s for s in self._table if s and s != self.grand]
        return sorted(known, key=lambda s: (len(s), sorted(pos[p] for p in s)))

    def by_player(self, values: Mapping | Sequence[float] | pd.Series, name: str, function: str) -> pd.Series:
        """``values`` (``function``'s argument ``name``) as a float Series indexed by the players: a
        mapping or Series with exactly the players as keys, or a list or array in the order of
        :attr:`players`; each a finite number.  Anything else is an :class:`~qzopt.arguments.ArgumentError`:
        a player left out is not a player at 0, nor a list index a player."""
        if isinstance(values, (Mapping, pd.Series)):
            keys = list(values.index if isinstance(values, pd.Series) else values.keys())
            given, players = set(keys), set(self.players)
            missing = [p for p in self.players if p not in given]
            unknown = [k for k in keys if k not in players]
            if missing or unknown:
                raise bad_argument(function, name, values, "must have one value per player: " + "; ".join(
                    [f"no value for {few_names(map(repr, missing))}"] * bool(missing)
                    + [f"{few_names(map(repr, unknown))} not a player"] * bool(unknown)))
            x = pd.Series([values[p] for p in self.players], index=self.players)
        elif isinstance(values, (list, tuple, np.ndarray)) and np.ndim(values) == 1 and len(values) == self.n:
            x = pd.Series(list(values), index=self.players)
        else:
            raise bad_argument(function, name, values, f"must be a mapping player -> value, or {self.n} values in "
                               f"the order of the players ({few_names(map(repr, self.players))})")
        x = pd.to_numeric(x, errors="coerce").astype(float)  # a word is not a number: NaN, refused below
        bad = [p for p, v in x.items() if not math.isfinite(v)]
        if bad:
            raise bad_argument(function, name, values, f"must be finite numbers: not for {few_names(map(repr, bad))}")
        return x

    def _series(self, values: Iterable[float], name: str) -> pd.Series:
        return pd.Series(list(values), index=pd.Index(self.players, name="player"), name=name, dtype=float)

    # ------------------------------------------------------------- allocations
    def proportional(self, weights: Mapping | Sequence[float] | pd.Series) -> pd.Series:
        """x_i = c(N) w_i / sum(w): what a uniform fee implies with w = volume."""
        self._need("proportional", [self.grand])
        w = self.by_player(weights, "weights", "Game.proportional")
        if (w < 0).any() or w.sum() <= 0:
            raise bad_argument("Game.proportional", "weights", weights, "must be >= 0 with a positive sum")
        return self._series((self.cost(self.grand) * w / w.sum()).to_numpy(), "proportional")

    def scrb(self) -> pd.Series:
        """Separable costs - remaining benefits (the water-resources agencies' method).

        Separable cost SC_i = c(N) - c(N - i); remaining benefit RB_i = c({i}) - SC_i (the
        stand-alone cost is the alternative); x_i = SC_i + (c(N) - sum SC) RB_i / sum RB.
        Needs only the singletons, the grand coalition and the coalitions of all but one.
        """
        N = self.grand
        self._need("scrb", [N] + [frozenset([p]) for p in self.players] + [N - {p} for p in self.players])
        cN = self.cost(N)
        self._finite("scrb", [N] + [frozenset([p]) for p in self.players] + [N - {p} for p in self.players])
        sc = np.array([cN - self.cost(N - {p}) for p in self.players])
        rb = np.array([self.cost(frozenset([p])) for p in self.players]) - sc
        nsc = cN - sc.sum()
        if rb.sum() <= 0:
            raise ValueError("SCRB is undefined: the remaining benefits sum to zero or less")
        return self._series(sc + nsc * rb / rb.sum(), "scrb")

    def shapley(self, samples: int | None = None, seed: int = 0, exact_up_to: int = 10) -> pd.Series | pd.DataFrame:
        """Shapley value: each player's average marginal cost over all orders of joining.

        Exact for up to ``exact_up_to`` players (all 2^n coalitions).  Beyond, or when
        ``samples`` is given, a Monte-Carlo estimate over random orders: a DataFrame with
        columns ``shapley``, ``std_error``, ``ci95_low``, ``ci95_high`` (a 95 % interval from Student's
        t with ``samples`` - 1 degrees of freedom).
        """
        samples = check_int("Game.shapley", "samples", samples, 2, optional=True,
                            hint="a standard error needs two orders; None: exact up to exact_up_to players")
        seed = check_int("Game.shapley", "seed", seed, 0)
        n = self.n
        if samples is None and n <= exact_up_to:
            self._need_every("shapley")
            self._finite("shapley", self.coalitions(proper=False))
            w = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
            phi = []
            for p in self.players:
                others = [q for q in self.players if q != p]
                total = 0.0
                for r in range(n):
                    for s in itertools.combinations(others, r):
                        s = frozenset(s)
                        total += w[r] * (self.cost(s | {p}) - self.cost(s))
                phi.append(total)
            return self._series(phi, "shapley")
        return self._shapley_sampled(2000 if samples is None else samples, seed)

    def _shapley_sampled(self, samples: int, seed: int) -> pd.DataFrame:
        contrib = np.zeros((samples, self.n))
        seen: list[frozenset] = []
        for t, order in enumerate(sample_orders(self.n, samples, seed)):
            s: frozenset = frozenset()
            before = 0.0
            for k in order:
                s = s | {self.players[k]}
                seen.append(s)
                now = self.cost(s)
                contrib[t, k] = now - before
                before = now
        self._finite("shapley", seen)  # an infinite cost makes the marginal costs after it meaningless
        mean = contrib.mean(axis=0)
        se = contrib.std(axis=0, ddof=1) / math.sqrt(samples)
        # each sampled order is efficient, so the mean is exactly efficient too; the 95 % interval
        # uses Student's t with samples - 1 degrees of freedom (1.96 made it ~30 % too narrow at 5)
        from scipy.stats import t as student_t  # here, not at the top: ~0.7 s to import (performance.md item 33)

        half = float(student_t.ppf(0.975, samples - 1)) * se
        return pd.DataFrame({"shapley": mean, "std_error": se, "ci95_low": mean - half,
                             "ci95_high": mean + half}, index=pd.Index(self.players, name="player"))

    def least_core(self) -> pd.Series:
        """An allocation minimising the largest excess; ``.attrs["epsilon"]`` is that excess.

        epsilon <= 0: the core is non-empty (no coalition pays more than alone); epsilon > 0:
        the core is empty and epsilon is the smallest possible overcharge of some coalition.
        """
        self._need_every("least_core")
        self._finite("least_core", [self.grand])
        x, eps, _ = self._minmax(fixed=[], free=self.coalitions())
        x = x + (self.cost(self.grand) - x.sum()) / self.n  # exact efficiency despite LP tolerances
        out = self._series(x, "least_core")
        out.attrs["epsilon"] = eps
        return out

    def nucleolus(self, tol: float = 1e-9) -> pd.Series:
        """The nucleolus: lexicographically minimises the sorted excesses (sequence of LPs).

        Step k solves min eps s.t. e(S, x) <= eps for coalitions not yet fixed, e(S, x) = eps_j
        for coalitions fixed at earlier levels, x(N) = c(N).  A coalition is fixed at this level
        when no optimal x gives it an excess below eps_k (checked with one LP per tight
        coalition, so degenerate games are handled exactly).  Stops when x is unique.
        """
        self._need_every("nucleolus")
        free = self.coalitions()
        self._finite("nucleolus", [self.grand])
        fixed: list[tuple[frozenset, float]] = []
        while True:
            x, eps, tight = self._minmax(fixed, free, tol)
            newly = []
            for s in tight:
                lowest = self._lowest_excess(s, fixed, free, eps)
                if lowest >= eps - 1e-7 * self._scale:
                    newly.append(s)
            if not newly:  # numerical safety: fix every tight coalition
                newly = tight
            fixed += [(s, eps / self._scale) for s in newly]
            free = [s for s in free if s not in set(newly) and math.isfinite(self.cost(s))]
            full = self._rank(fixed) >= self.n - 1
            if not free or full:
                # the fixed excess levels determine x: solve them exactly (LP tolerances are ~1e-7)
                x = self._unique_point(fixed) if full else x
                return self._series(x + (self.cost(self.grand) - x.sum()) / self.n, "nucleolus")

    # -------------------------------------------------------------- core check
    def core_violations(self, allocation: Mapping | pd.Series, tol: float = 1e-6) -> pd.DataFrame:
        """Coalitions that would pay less alone than under ``allocation``, worst first:
        columns coalition, allocated, stand_alone, excess (money per year).  ``allocation``: a
        mapping or Series player -> money, or a list in the order of :attr:`players`."""
        x = self.by_player(allocation, "allocation", "Game.core_violations")
        rows = []
        for s in self.known_coalitions():
            paid = float(x[list(s)].sum())
            alone = self.cost(s)
            if paid > alone + tol * max(1.0, abs(alone)):
                rows.append({"coalition": " + ".join(sorted(map(str, s))), "size": len(s), "allocated": paid,
                             "stand_alone": alone, "excess": paid - alone})
        frame = pd.DataFrame(rows, columns=["coalition", "size", "allocated", "stand_alone", "excess"])
        return frame.sort_values("excess", ascending=False, ignore_index=True)

    def in_core(self, allocation: Mapping | pd.Series, tol: float = 1e-6) -> bool:
        """Efficient and no coalition pays more than alone (needs every coalition's cost)."""
        self._need_every("in_core")
        x = self.by_player(allocation, "allocation", "Game.in_core")
        efficient = abs(x.sum() - self.cost(self.grand)) <= tol * max(1.0, abs(self.cost(self.grand)))
        return efficient and self.core_violations(x, tol).empty

    # ------------------------------------------------------------------ LPs
    def _rows(self, coalitions: list[frozenset]) -> np.ndarray:
        pos = {p: k for k, p in enumerate(self.players)}
        a = np.zeros((len(coalitions), self.n))
        for r, s in enumerate(coalitions):
            a[r, [pos[p] for p in s]] = 1.0
        return a

    def _scaled(self, s: frozenset) -> float:
        """c(S) divided by the largest finite cost: the LPs work on numbers near 1."""
        if not hasattr(self, "_scale"):
            finite = [abs(v) for v in self._table.values() if math.isfinite(v)]
            self._scale = max(finite + [1.0])
        return self.cost(s) / self._scale

    _SLACK = 1e-9  # scaled: how far a fixed coalition's excess may move from its level

    def _system(self, fixed: list[tuple[frozenset, float]], free: list[frozenset], eps: float | None):
        """Rows over (x, eps) [eps column only when ``eps`` is None]: free coalitions
        x(S) - eps <= c(S); fixed ones eps_S - slack <= x(S) - c(S) <= eps_S + slack; x(N) = c(N)."""
        n = self.n
        free = [t for t in free if math.isfinite(self.cost(t))]
        with_eps = eps is None
        a_free = self._rows(free)
        rows = [np.hstack([a_free, -np.ones((len(free), 1))]) if with_eps else a_free]
        rhs = [np.array([self._scaled(t) for t in free]) + (0.0 if with_eps else eps)]
        if fixed:
            a_fix = self._rows([t for t, _ in fixed])
            lvl = np.array([self._scaled(t) + e for t, e in fixed])
            pad = np.zeros((len(fixed), 1)) if with_eps else np.zeros((len(fixed), 0))
            rows += [np.hstack([a_fix, pad]), np.hstack([-a_fix, pad])]
            rhs += [lvl + self._SLACK, -lvl + self._SLACK]
        A_eq = np.r_[np.ones(n), [0.0] if with_eps else []][None, :]
        return free, a_free, np.vstack(rows), np.concatenate(rhs), A_eq, np.array([self._scaled(self.grand)])

    def _minmax(self, fixed: list[tuple[frozenset, float]], free: list[frozenset], tol: float = 1e-9):
        """min eps over the free coalitions' excesses (scaled), the fixed ones held at their level.
        Coalitions with infinite cost (they cannot serve themselves) constrain nothing.
        Returns x and eps in money, and the free coalitions whose excess reaches eps."""
        from scipy.optimize import linprog  # here, not at the top: docs/performance.md item 33

        n = self.n
        free, a_free, A_ub, b_ub, A_eq, b_eq = self._system(fixed, free, None)
        c = np.r_[np.zeros(n), 1.0]
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=[(None, None)] * (n + 1), method="highs")
        if res.status == 3:  # unbounded
            raise UnboundedLeastCore("the least core and nucleolus are undefined here: the coalitions with finite cost "
                             "do not bound the allocation (too many coalitions cannot serve themselves, or not within "
                             "the fee rule); "
                             "let coalitions use every site (`--territory all`, where they do not already) or "
                             "group the players")
        if res.status != 0:
            raise RuntimeError(f"least-core LP failed: {res.message}")
        x, eps = res.x[:n], float(res.x[n])
        excess = a_free @ x - np.array([self._scaled(t) for t in free])
        tight = [t for t, e in zip(free, excess) if e >= eps - 1e-7]
        return x * self._scale, eps * self._scale, tight

    def _lowest_excess(self, s: frozenset, fixed, free, eps: float) -> float:
        """min e(S, x) over the optimal face of the current level (money)."""
        from scipy.optimize import linprog

        n = self.n
        _, _, A_ub, b_ub, A_eq, b_eq = self._system(fixed, free, eps / self._scale)
        res = linprog(self._rows([s])[0], A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq,
                      bounds=[(None, None)] * n, method="highs")
        return (float(res.fun) - self._scaled(s)) * self._scale if res.status == 0 else eps

    def _rank(self, fixed) -> int:
        if not fixed:
            return 0
        return int(np.linalg.matrix_rank(np.vstack([self._rows([s for s, _ in fixed]), np.ones(self.n)]))) - 1

    def _unique_point(self, fixed) -> np.ndarray:
        a = np.vstack([self._rows([s for s, _ in fixed]), np.ones(self.n)])
        b = np.r_[[self._scaled(s) + e for s, e in fixed], self._scaled(self.grand)]
        return np.linalg.lstsq(a, b, rcond=None)[0] * self._scale

    # ---------------------------------------------------------------- report
    def table(self, allocation: pd.Series, volume: Mapping | pd.Series | None = None,
              per_year: float = 1.0) -> pd.DataFrame:
        """Per player: stand-alone cost, allocated cost, saving (money/yr and %), individually
        rational, and the allocated cost per unit of volume when ``volume`` (units per period) is
        given (money per unit: everything the player is allocated - haulage, side streams - over
        its demand; not the scenario's fee)."""
        x = self.by_player(allocation, "allocation", "Game.table")
        alone = pd.Series([self.cost(frozenset([p])) if self.has([p]) else np.nan for p in self.players],
                          index=self.players)
        out = pd.DataFrame({"stand_alone_cost_per_yr": alone, "allocated_cost_per_yr": x})
        out["saving_per_yr"] = alone - x
        out["saving_pct"] = 100 * out["saving_per_yr"] / alone
        out["individually_rational"] = x <= alone + 1e-6 * alone.abs().clip(lower=1.0)
        if volume is not None:
            v = pd.Series(volume).reindex(self.players).astype(float)
            out["allocated_cost_per_unit"] = x / (v * per_year)
        out.index.name = "player"
        return out
