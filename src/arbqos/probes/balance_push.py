"""Push wallet balances to the orchestrator's registry in the background; latest wins."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from arbqos.probes.report import OrchestratorSender
from arbqos.registry.model import WalletBalance


class BalancePusher(OrchestratorSender):
    """`PUT {orchestrator_url}/v1/registry/balances` without ever delaying a poll.

    `submit()` keeps the newest balances and returns at once; one background task sends, one
    request at a time, always the newest body. A failed push is logged (once per new failure
    reason) and not retried on its own: the next poll submits fresh balances.

    >>> pusher = BalancePusher(client, url="http://127.0.0.1:8700", token=token, timeout_s=2)
    >>> pusher.submit(balances)
    """

    def __init__(
        self, http: httpx.AsyncClient, *, url: str, token: str | None, timeout_s: float
    ) -> None:
        super().__init__(
            http,
            url=url,
            method="PUT",
            path="/v1/registry/balances",
            token=token,
            timeout_s=timeout_s,
            retry=None,
            what="balances",
            failed_message="balances not pushed to the orchestrator (%s); retried at the next poll",
        )

    def submit(self, balances: Mapping[str, WalletBalance]) -> None:
        """Keep `balances` as the newest body and make sure a sender runs."""
        self.send({"balances": {name: b.to_json() for name, b in sorted(balances.items())}})
