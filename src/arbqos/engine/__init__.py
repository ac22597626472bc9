"""The engine's side of arbqos in one call: tracker, guard, orchestrator client, exporter.

>>> qos = arbqos.engine.connect(Path("config"), env=os.environ)
>>> qos.on_pause(cancel_resting_orders)       # once per transition, guard or orchestrator
>>> if qos.trading_allowed():                  # False from the breaching leg on; no I/O
...     leg = qos.tracker.submit("sx", "live", 50.0, quoted_prob=0.52)
"""

from arbqos.engine.bank import BankReading, read_bank
from arbqos.engine.changes import ChangeCallback, ChangeCause, TradingChange
from arbqos.engine.connect import connect
from arbqos.engine.gate import GuardLatch, TradingGate
from arbqos.engine.session import EngineQos

__all__ = [
    "BankReading",
    "ChangeCallback",
    "ChangeCause",
    "EngineQos",
    "GuardLatch",
    "TradingChange",
    "TradingGate",
    "connect",
    "read_bank",
]
