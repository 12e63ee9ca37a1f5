"""Scenarios: file format (schema), loading with clear errors, the resolved Scenario, checks."""

from qzopt.scenario.load import load_scenario
from qzopt.scenario.scenario import Policy, Scenario, SolverSettings, Units

__all__ = ["load_scenario", "Scenario", "Policy", "SolverSettings", "Units"]
