"""Venue simulators (SX Bet-like, Azuro-like) and a simulated arb engine for the local demo.

`sx.SxSimulator` and `azuro.AzuroSimulator` build FastAPI apps speaking the documented venue
JSON shapes, driven by `SimKnobs` (latency, fills, faults) that can be changed at runtime
(`POST /sim/knobs`). `serve()` runs an app in a background thread;
`python -m arbqos_harness.sim.sx --port P` (or `.azuro`) runs one alone.
`engine.ArbEngine` sends order legs to both and reports every leg to an observer.
"""

from arbqos_harness.sim.knobs import KnobBox, KnobError, SimKnobs
from arbqos_harness.sim.server import SimServer, serve

__all__ = ["KnobBox", "KnobError", "SimKnobs", "SimServer", "serve"]
