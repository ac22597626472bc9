"""Bounded history for the simulators: records in arrival order, kept for a while, then dropped.

A simulator keeps what a client may still ask about (a trade until it settled and a while
after, an order until it is final and a while after, a fill salt to refuse duplicates) and
no more, so a day of traffic costs what ten minutes do. Every store also has a hard cap on
its size, whatever the knobs say.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

HISTORY_S = 300.0
"""How long a finished record stays, simulator-clock seconds (a settled trade, a final order,
a fill salt). The engine needs a record until its next settlement check (2-5 s) after the
bet settled (6 s after acceptance at the demo's knobs, 60 s at time_scale 1); five minutes
leaves room to look at recent trades by hand. A soak's warm-up must be longer than this."""
MAX_RECORDS = 20_000
"""Hard cap per store: the oldest records go first when it is reached (a few MB at most)."""

T = TypeVar("T")


class Timeline(Generic[T]):
    """Records in arrival order, each with a sequence number and a time (non-decreasing).

    Appending, dropping the oldest, looking up by sequence number and finding the first
    record at or after a time are O(1) or O(log n); nothing walks the whole history.
    """

    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        if max_records < 1:
            raise ValueError(f"max_records = {max_records}: keep at least one record")
        self.max_records = max_records
        self._items: list[T | None] = []
        """Kept records; dropped ones are None until the list is compacted."""
        self._times: list[float] = []
        self._head = 0
        """Index in `_items` of the oldest kept record."""
        self._offset = 0
        """Sequence number of `_items[0]`."""

    def __len__(self) -> int:
        return len(self._items) - self._head

    @property
    def next_seq(self) -> int:
        """The sequence number the next record will get."""
        return self._offset + len(self._items)

    def append(self, item: T, at: float) -> int:
        """Add `item` at time `at` (clamped to the last time); return its sequence number."""
        if self._times and at < self._times[-1]:
            at = self._times[-1]
        self._items.append(item)
        self._times.append(at)
        return self.next_seq - 1

    def oldest(self) -> tuple[int, T] | None:
        """The oldest kept record and its sequence number."""
        if not len(self):
            return None
        return self._offset + self._head, self._live(self._head)

    def drop_oldest(self) -> tuple[int, T]:
        """Remove and return the oldest record (IndexError when empty); it is freed at once."""
        if not len(self):
            raise IndexError("drop_oldest from an empty timeline")
        seq, item = self._offset + self._head, self._live(self._head)
        self._items[self._head] = None
        self._head += 1
        if self._head >= 1024 and self._head * 2 >= len(self._items):
            del self._items[: self._head]
            del self._times[: self._head]
            self._offset += self._head
            self._head = 0
        return seq, item

    def drop_while(self, expired: Callable[[T], bool]) -> list[tuple[int, T]]:
        """Drop old records while the oldest is `expired` or the store is over its cap."""
        dropped = []
        while len(self) and (len(self) > self.max_records or expired(self._live(self._head))):
            dropped.append(self.drop_oldest())
        return dropped

    def seq_at(self, at: float) -> int:
        """Sequence number of the first kept record with time >= `at` (`next_seq` if none)."""
        index = bisect.bisect_left(self._times, at, lo=self._head)
        return self._offset + index

    def since(self, seq: int) -> Iterator[tuple[int, T]]:
        """Kept records from sequence number `seq` on (from the oldest if it was dropped)."""
        start = max(seq - self._offset, self._head)
        for index in range(start, len(self._items)):
            yield self._offset + index, self._live(index)

    def _live(self, index: int) -> T:
        item = self._items[index]
        if item is None:
            raise IndexError(f"record at index {index} was dropped")
        return item


class Expiring(Generic[T]):
    """Keys remembered until a deadline (or the cap), oldest first: `key in store` is O(1)."""

    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self.max_records = max_records
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> T | None:
        """The value of `key`, or None."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None else None

    def put(self, key: str, value: T, until: float) -> None:
        """Remember `key` until time `until` (the oldest goes when over the cap); call
        `expire()` to drop what is due."""
        self._entries[key] = (until, value)
        if len(self._entries) > self.max_records:
            self._entries.popitem(last=False)

    def expire(self, now: float) -> int:
        """Drop entries due at `now` from the oldest on, and any over the cap; return how many.

        Entries are dropped in insertion order, so one with a later deadline holds back the
        ones behind it until it is due (or the cap is reached).
        """
        dropped = 0
        entries = self._entries
        while entries:
            until, _value = next(iter(entries.values()))
            if until > now and len(entries) <= self.max_records:
                break
            entries.popitem(last=False)
            dropped += 1
        return dropped

    def values(self) -> Iterator[T]:
        """Every remembered value, oldest first."""
        return (value for _until, value in self._entries.values())
