"""Venue simulators (SX Bet-like, Azuro-like) and a simulated arb engine for the local demo.

`arbqos.sim.sx.SxSimulator` and `arbqos.sim.azuro.AzuroSimulator` build FastAPI apps speaking
the documented venue JSON shapes, driven by `SimKnobs` (latency, fills, faults) that can be
changed at runtime (`POST /sim/knobs`). `serve()` runs an app in a background thread;
`python -m arbqos.sim.sx --port P` / `python -m arbqos.sim.azuro --port P` run one alone.
`arbqos.sim.engine.ArbEngine` sends order legs to both and reports every leg to an observer.
"""

from arbqos.sim.knobs import KnobBox, KnobError, SimKnobs
from arbqos.sim.server import SimServer, serve

__all__ = ["KnobBox", "KnobError", "SimKnobs", "SimServer", "serve"]
