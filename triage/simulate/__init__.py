"""A simulator of kubernaut's audit pipeline that writes must-gather bundles with their ground truth."""

from triage.simulate.bundle import simulate
from triage.simulate.knobs import FAULTS, KnobError, Knobs
from triage.simulate.scenarios import SCENARIOS, Scenario, get_scenario

__all__ = ["FAULTS", "SCENARIOS", "KnobError", "Knobs", "Scenario", "get_scenario", "simulate"]
