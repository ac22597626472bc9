"""The SX simulator's trades: one record per accepted fill, indexed so no query walks history.

Trades are kept in bet-time order (`Timeline`) until `history_s` after they settled (or
failed), with the still-unsettled ones in their own set and the lifetime volume as a running
total. A `GET /trades` page costs what it returns plus the non-matching trades it steps over
from its start: `startDate` and `paginationKey` (a sequence number) jump straight to it, and
`settled=false` reads only the unsettled set.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arbqos.clock import format_ts
from arbqos_harness.sim.history import HISTORY_S, MAX_RECORDS, Timeline


@dataclass(frozen=True)
class SxTrade:
    """One accepted fill and its planned life: PENDING, SUCCESS or FAILED, then settlement."""

    fill_hash: str
    order_hash: str
    market_hash: str
    bettor: str
    base_token: str
    stake_units: int
    odds: int
    bet_time: datetime
    outcome_one: bool
    confirm_at: datetime
    failed: bool
    settle_at: datetime
    void: bool
    winner_one: bool

    def status(self, now: datetime) -> str:
        """PENDING until confirmed on chain, then SUCCESS or FAILED."""
        if now < self.confirm_at:
            return "PENDING"
        return "FAILED" if self.failed else "SUCCESS"

    def settled(self, now: datetime) -> bool:
        """True once a successful trade's market is settled (won, lost or voided)."""
        return not self.failed and now >= self.settle_at

    @property
    def finished_at(self) -> datetime:
        """When nothing about the trade changes any more: settled, or failed on chain."""
        return self.confirm_at if self.failed else self.settle_at

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The trade in the `GET /trades` sample shape."""
        settled = self.settled(now)
        outcome = 0 if self.void else (1 if self.winner_one else 2)
        return {
            "baseToken": self.base_token,
            "bettor": self.bettor,
            "stake": str(self.stake_units),
            "odds": str(self.odds),
            "orderHash": self.order_hash,
            "marketHash": self.market_hash,
            "maker": False,
            "betTime": int(self.bet_time.timestamp()),
            "settled": settled,
            "settleValue": outcome if settled else 0,
            "bettingOutcomeOne": self.outcome_one,
            "fillHash": self.fill_hash,
            "tradeStatus": self.status(now),
            "valid": not self.failed,
            "marketHasRefunds": False,
            "outcome": outcome if settled else 0,
            "settleDate": format_ts(self.settle_at) if settled else None,
        }


@dataclass(frozen=True)
class TradeQuery:
    """The filters of `GET /trades` (None: not filtered)."""

    bettor: str | None = None
    markets: frozenset[str] = frozenset()
    base_token: str | None = None
    status: str | None = None
    settled: bool | None = None
    start_date: int | None = None
    """Unix seconds, inclusive."""
    end_date: int | None = None
    """Unix seconds, inclusive."""

    def matches(self, trade: SxTrade, now: datetime) -> bool:
        """True when `trade` passes every filter (the time range is applied by the book)."""
        return (
            (self.bettor is None or trade.bettor == self.bettor)
            and (not self.markets or trade.market_hash in self.markets)
            and (self.base_token is None or trade.base_token == self.base_token)
            and (self.status is None or trade.status(now) == self.status)
            and (self.settled is None or trade.settled(now) == self.settled)
        )


class TradeBook:
    """Every kept trade in bet-time order, the unsettled ones apart, the volume as a total."""

    def __init__(self, history_s: float = HISTORY_S, max_records: int = MAX_RECORDS) -> None:
        if history_s <= 0:
            raise ValueError(f"history_s = {history_s}: expected > 0 seconds")
        self.history_s = history_s
        self._timeline: Timeline[SxTrade] = Timeline(max_records)
        self._unsettled: dict[int, SxTrade] = {}
        """Sequence number -> trade not settled yet (pending, confirmed, or failed)."""
        self._settling: list[tuple[datetime, int]] = []
        """Heap of (settle_at, seq) of the unsettled trades that will settle."""
        self.volume_units = 0
        """Stake of every trade ever recorded (not only the kept ones)."""

    def __len__(self) -> int:
        return len(self._timeline)

    def add(self, trade: SxTrade) -> None:
        """Record a new trade (its bet time is the latest so far)."""
        seq = self._timeline.append(trade, trade.bet_time.timestamp())
        self._unsettled[seq] = trade
        if not trade.failed:
            heapq.heappush(self._settling, (trade.settle_at, seq))
        self.volume_units += trade.stake_units

    def tidy(self, now: datetime) -> None:
        """Move trades that settled out of the unsettled set; drop those finished long ago."""
        while self._settling and self._settling[0][0] <= now:
            _at, seq = heapq.heappop(self._settling)
            self._unsettled.pop(seq, None)
        horizon = now - timedelta(seconds=self.history_s)
        for seq, _trade in self._timeline.drop_while(lambda t: t.finished_at <= horizon):
            self._unsettled.pop(seq, None)
        if len(self._settling) > 2 * len(self._unsettled) + 64:
            self._settling = [(at, s) for at, s in self._settling if s in self._unsettled]
            heapq.heapify(self._settling)

    def page(
        self, query: TradeQuery, now: datetime, *, after: int, size: int
    ) -> tuple[list[SxTrade], int | None]:
        """Up to `size` matching trades from sequence number `after` on, and the next key."""
        start = after
        if query.start_date is not None:
            start = max(start, self._timeline.seq_at(float(query.start_date)))
        if query.settled is False:
            candidates: Any = ((s, t) for s, t in self._unsettled.items() if s >= start)
        else:
            candidates = self._timeline.since(start)
        rows: list[SxTrade] = []
        for seq, trade in candidates:
            if query.end_date is not None and int(trade.bet_time.timestamp()) > query.end_date:
                break
            if not query.matches(trade, now):
                continue
            if len(rows) == size:
                return rows, seq
            rows.append(trade)
        return rows, None
