"""Model builders: scenario -> solver-neutral MILP made of named blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qzopt.scenario.scenario import Scenario


def build_model(sc: "Scenario", presolve: bool = True, presolve_seconds: float = 90.0):
    """Build the model for the scenario's sector (``facility`` = the generic siting model);
    ``presolve=False`` skips the generic model's Lagrangian presolve (to time building alone),
    ``presolve_seconds`` bounds the time it may take."""
    from qzopt.models import coldchain, facility, sewage, wte

    builders = {"facility": facility.build, "sewage": sewage.build, "wte": wte.build, "coldchain": coldchain.build}
    if sc.sector not in builders:
        raise ValueError(f"no model for sector {sc.sector!r}; known: {', '.join(builders)}")
    if sc.sector == "facility":
        return facility.build(sc, presolve=presolve, presolve_seconds=presolve_seconds)
    return builders[sc.sector](sc)
