"""Model builders: scenario -> solver-neutral MILP made of named blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qzopt.models.facility import BuiltModel
    from qzopt.scenario.scenario import Scenario


#: Sectors with a model; each is the module ``qzopt.models.<sector>`` with a ``build`` function.
SECTORS = ("facility", "sewage", "wte", "coldchain")


def build_model(sc: "Scenario", presolve: bool = True, presolve_seconds: float = 90.0,
                kernel_seconds: float = 0.0, tree_seconds: float | None = None) -> BuiltModel:
    """Build the model for the scenario's sector (``facility`` = the generic siting model);
    ``presolve=False`` skips the generic model's Lagrangian presolve (to time building alone),
    ``presolve_seconds`` bounds the time it may take, ``kernel_seconds`` the time its kernel
    search may take beyond that, ``tree_seconds`` the p-median branch and bound's budget
    (default: ``presolve_seconds``)."""
    import importlib

    if sc.sector not in SECTORS:
        raise ValueError(f"no model for sector {sc.sector!r}; known: {', '.join(SECTORS)}")
    module = importlib.import_module(f"qzopt.models.{sc.sector}")  # only the sector's own builder
    if sc.sector == "facility":
        return module.build(sc, presolve=presolve, presolve_seconds=presolve_seconds, kernel_seconds=kernel_seconds,
                            tree_seconds=tree_seconds)
    return module.build(sc)
