"""How the end-to-end tests run a scenario on their module's stack and read its report."""

from __future__ import annotations

import threading

from arbqos_harness.demo.scenarios import SCENARIOS, Scenario, run_scenario
from arbqos_harness.demo.stack import DemoStack
from arbqos_harness.demo.verdict import ScenarioReport

WINDOW_S = 20
"""The QoS window of the end-to-end stacks (the demo's 60 s would triple every QoS test)."""
NO_STOP = threading.Event()


def run(stack: DemoStack, scenario: str | Scenario) -> ScenarioReport:
    """Run one scenario; the report's lines go to the captured output for failures."""
    chosen = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    report = run_scenario(stack, chosen, say=print, stop=NO_STOP, warm_timeout_s=90)
    print("\n".join(report.lines()))
    return report


def reasons(report: ScenarioReport) -> dict[str, str]:
    """source -> reason name of the first pause of each source."""
    found: dict[str, str] = {}
    for pause in report.pauses:
        found.setdefault(pause.source, pause.name)
    return found
