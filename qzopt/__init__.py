"""qzopt: site shared infrastructure across jurisdictions and work out what each pays.

Notebook use::

    import qzopt
    sc = qzopt.load_scenario("scenarios/qianzhong-msw.yaml")
    res = qzopt.solve(sc, solver="highs", time_limit=60)
    res.facilities, res.assignments      # pandas DataFrames

Names are imported lazily so that solver worker processes start fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("qzopt")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"

_EXPORTS = {
    "load_scenario": "qzopt.scenario.load",
    "solve": "qzopt.api",
    "Scenario": "qzopt.scenario.scenario",
    "Policy": "qzopt.scenario.scenario",
    "FeeRules": "qzopt.scenario.scenario",
    "SolverSettings": "qzopt.scenario.scenario",
    "Units": "qzopt.scenario.scenario",
    "Result": "qzopt.result",
    "QzoptError": "qzopt.errors",
    "ScenarioError": "qzopt.errors",
    "ArgumentError": "qzopt.arguments",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qzopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
