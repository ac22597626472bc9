"""Push wallet balances to the orchestrator's registry in the background; latest wins."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from pydantic import ValidationError

from arbqos.probes.report import LatestWinsSender
from arbqos.registry.model import WalletBalance
from arbqos.sdk import AsyncOrchestratorClient
from arbqos.wire import BalancesRequest, describe


class BalancePusher(LatestWinsSender[BalancesRequest]):
    """`PUT /v1/registry/balances` through the SDK without ever delaying a poll.

    `submit()` keeps the newest balances and returns at once; one background task sends, one
    request at a time, always the newest body. A failed push is logged (once per new failure
    reason) and not retried on its own: the next poll submits fresh balances.

    >>> pusher = BalancePusher(http, url="http://127.0.0.1:8700", token=token, timeout_s=2)
    >>> pusher.submit(balances)
    """

    def __init__(
        self, http: httpx.AsyncClient, *, url: str, token: str | None, timeout_s: float
    ) -> None:
        client = AsyncOrchestratorClient(url, token, timeout_s=timeout_s, http=http)
        super().__init__(
            client,
            client.put_balances,
            retry=None,
            what="balances",
            failed_message="balances not pushed to the orchestrator (%s); retried at the next poll",
        )

    def submit(self, balances: Mapping[str, WalletBalance]) -> None:
        """Keep `balances` as the newest body and make sure a sender runs."""
        try:
            wire = {name: b.to_wire() for name, b in sorted(balances.items())}
            body = BalancesRequest.model_validate({"balances": wire})
        except ValidationError as err:  # the orchestrator would refuse them: say why, here
            self.failed(f"invalid balances ({describe(err)})")
            return
        except ValueError as err:  # from `to_wire`, already worded
            self.failed(f"invalid balances ({err})")
            return
        self.send(body)
