"""Load a benchmark instance and solve it with one solver: what the worker process runs.

Reading the instance file (and, for p-median, the all-pairs shortest paths) is the same work
for every solver and is not timed; the timed part starts from the instance's data in memory.
"""

from __future__ import annotations

import time

import numpy as np

from qzopt.bench.suites import Instance

#: Solver name -> the instance kinds it runs on.
SOLVERS: dict[str, tuple[str, ...]] = {
    "qzopt": ("pmed", "cap", "scale", "build"),
    "spopt-cbc": ("pmed",),
    "pulp-cbc": ("cap",),
}


def peer_of(kind: str) -> str | None:
    """The peer measured against qzopt on instances of this kind."""
    return {"pmed": "spopt-cbc", "cap": "pulp-cbc"}.get(kind)


#: The package each peer needs beyond qzopt's own dependencies.
PEER_PACKAGES = {"spopt-cbc": "spopt", "pulp-cbc": "pulp"}


def peer_missing(peer: str) -> str | None:
    """Why ``peer`` cannot run here (its package is not installed), or None."""
    import importlib.util

    package = PEER_PACKAGES.get(peer)
    if package and importlib.util.find_spec(package) is None:
        return f"{package} is not installed (pip install -e '.[bench]')"
    return None


def scenario(inst: Instance):
    """The instance as a qzopt :class:`~qzopt.scenario.scenario.Scenario`."""
    from qzopt.io.orlib import load_cap, load_pmed

    if inst.kind == "pmed":
        return load_pmed(inst.path)
    if inst.kind == "cap":
        return load_cap(inst.path, capacity=inst.capacity)
    if inst.kind in ("scale", "build"):
        from qzopt.bench.scale import qianzhong_like

        return qianzhong_like(inst.scale)
    raise ValueError(f"unknown instance kind {inst.kind!r}")


def size_of(inst: Instance, sc=None) -> str:
    """``demand points x sites`` (and p for p-median), for the table."""
    sc = sc if sc is not None else scenario(inst)
    text = f"{len(sc.demands)}x{len(sc.sites)}"
    if sc.policy.facilities_exactly is not None:
        text += f" p={sc.policy.facilities_exactly}"
    return text


def run_qzopt(inst: Instance, time_limit: float) -> dict:
    """qzopt's default path (``qzopt.solve``, in this process: the benchmark worker is the isolation).
    ``total_s`` ends when ``qzopt.solve`` returns (objective, bound, gap, solution); ``tables_s`` is
    the time the result tables then take on first use (not in ``total_s``: the peers return
    variable values, not tables)."""
    import qzopt

    sc = scenario(inst)
    if inst.kind == "build":
        return build_only(inst, sc)
    import_solve_path()
    t0 = time.perf_counter()
    res = qzopt.solve(sc, time_limit=time_limit, gap=inst.gap, isolate=False, explain=False)
    total = time.perf_counter() - t0
    res.facilities  # the result tables are built on first use: timed apart from the solve
    tables = time.perf_counter() - t0 - total
    size = res.model_size or {}
    return {"status": res.status, "objective": res.objective, "bound": res.bound, "gap": res.gap,
            "build_s": res.build_seconds, "solve_s": total - res.build_seconds, "total_s": total,
            "tables_s": tables,
            "size": size_of(inst, sc), "variables": size.get("variables"), "nonzeros": size.get("nonzeros"),
            "solver": res.solver}


#: Modules ``qzopt.solve`` imports on first use.  The peers import PuLP and spopt before their
#: clock starts, so qzopt's own imports are kept out of the timed part the same way.
SOLVE_PATH_MODULES = ("qzopt.api", "qzopt.models", "qzopt.models.facility", "qzopt.result",
                      "qzopt.solvers.registry", "qzopt.solvers.highs", "qzopt.geo.places", "qzopt.scenario.checks",
                      "highspy")


def import_solve_path() -> None:
    """Import :data:`SOLVE_PATH_MODULES` (those that are installed) before timing a solve."""
    import importlib

    for name in SOLVE_PATH_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # highspy missing: the fallback back end is imported (and timed) on use
            pass


def build_only(inst: Instance, sc) -> dict:
    """Build the model (pairs, blocks, sparse matrix) and stop: status ``built``."""
    from qzopt.models import build_model

    t0 = time.perf_counter()
    built = build_model(sc, presolve=False)  # building only: the presolve is solving work
    form = built.solver_form()
    total = time.perf_counter() - t0
    pairs = int(built.data.P)
    return {"status": "built", "objective": None, "build_s": built.build_seconds, "solve_s": 0.0, "total_s": total,
            "size": size_of(inst, sc) + f" pairs={pairs:,}", "variables": form.num_cols, "nonzeros": int(form.A.nnz)}


def run_peer(name: str, inst: Instance, time_limit: float) -> dict:
    """A peer on one instance (time limit enforced by the caller's kill)."""
    from qzopt.bench import peers

    if name == "spopt-cbc":
        from qzopt.io.orlib import pmed_distances

        dist, p = pmed_distances(inst.path)
        out = peers.spopt_pmedian(dist, p)
        out["size"] = f"{dist.shape[0]}x{dist.shape[1]} p={p}"
        return out
    if name == "pulp-cbc":
        sc = scenario(inst)
        cost = sc.cost if sc.cost is not None else sc.annual_assignment_cost()
        out = peers.pulp_cflp(sc.sizes["capacity"].to_numpy(float), sc.sizes["fixed_cost"].to_numpy(float),
                              sc.demands["amount"].to_numpy(float), np.asarray(cost, float))
        out["size"] = size_of(inst, sc)
        return out
    raise KeyError(f"unknown peer {name!r}")


def run(solver: str, inst: Instance, time_limit: float) -> dict:
    """Run ``solver`` (``qzopt`` or a peer) on ``inst``."""
    if solver == "qzopt":
        return run_qzopt(inst, time_limit)
    return run_peer(solver, inst, time_limit)
