"""Occasional transactions on the local SX Rollup so its blocks progress like the real chain.

SX Rollup makes no empty blocks and carries about 0.2 transactions per second, so a quiet
local node would look stalled to the heartbeat. This harness thread sends a zero-value
transaction from anvil's deployer account every few seconds (test and demo harness only).
"""

from __future__ import annotations

import logging
import random
import threading

from arbqos_harness.chain.localchain import DEPLOYER, AdminRpcError, LocalChains

logger = logging.getLogger(__name__)


class ChainTraffic(threading.Thread):
    """Send a zero-value transaction on `chain` every `gap_s` seconds (uniform in [min, max]).

    Errors (node stopped for a fault scenario, stalled chain) are counted and skipped.

    >>> traffic = ChainTraffic(chains, "sx_rollup", gap_s=(2.0, 6.0), seed=1)
    >>> traffic.start(); ...; traffic.stop()
    """

    def __init__(
        self,
        chains: LocalChains,
        chain: str,
        *,
        gap_s: tuple[float, float] = (2.0, 6.0),
        seed: int = 1,
    ) -> None:
        super().__init__(name=f"traffic-{chain}", daemon=True)
        if not 0 < gap_s[0] <= gap_s[1]:
            raise ValueError(f"gap_s = {gap_s}: expected 0 < min <= max seconds")
        self._chains = chains
        self._chain = chain
        self._gap_s = gap_s
        self._rng = random.Random(seed)  # noqa: S311 - traffic timing, not security
        self._halt = threading.Event()
        self.sent = 0
        self.failed = 0

    def run(self) -> None:
        """Send until stopped."""
        while not self._halt.wait(self._rng.uniform(*self._gap_s)):
            try:
                admin = self._chains.admin(self._chain)
                admin.call("eth_sendTransaction", [{"from": DEPLOYER, "to": DEPLOYER}])
                self.sent += 1
            except (AdminRpcError, RuntimeError) as err:
                self.failed += 1
                logger.debug("traffic on %s skipped: %s", self._chain, err)

    def stop(self) -> None:
        """Stop sending and wait for the thread."""
        self._halt.set()
        self.join(timeout=5.0)
