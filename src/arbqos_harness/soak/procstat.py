"""RSS and CPU of processes by PID, read from /proc (Linux), and their growth over a soak."""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcReading:
    """One reading of one process."""

    rss_bytes: int
    cpu_s: float
    """User plus system CPU seconds since the process started."""


def read_proc(pid: int, proc: Path = PROC) -> ProcReading | None:
    """RSS and CPU time of `pid`, or None when it is gone (or /proc cannot be read)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
        statm = (proc / str(pid) / "statm").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may hold spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    rss_pages = int(statm.split()[1])
    return ProcReading(rss_pages * PAGE_SIZE, (utime + stime) / CLOCK_TICKS)


@dataclass(frozen=True)
class ProcSample:
    """A process at one moment: RSS and CPU percent of one core since the previous sample."""

    name: str
    pid: int
    elapsed_s: float
    rss_mb: float
    cpu_pct: float | None


@dataclass
class ProcessSampler:
    """Samples named processes; keeps per-process window means, not every sample."""

    window_s: float
    warmup_s: float
    proc: Path = PROC
    _last: dict[str, tuple[float, ProcReading]] = field(default_factory=dict)
    _window_rss: dict[str, list[float]] = field(default_factory=dict)
    _window_index: int = -1
    windows: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """name -> (window end, mean RSS MB) of every finished window after the warm-up."""
    gone: set[str] = field(default_factory=set)
    """Processes that could not be read at some sample (exited)."""

    def sample(self, pids: Mapping[str, int], elapsed_s: float) -> list[ProcSample]:
        """Read every process once; a process that cannot be read is noted in `gone`."""
        index = int((elapsed_s - self.warmup_s) // self.window_s) if elapsed_s >= 0 else -1
        if index != self._window_index:
            self._close_window()
            self._window_index = index
        out = []
        for name, pid in pids.items():
            reading = read_proc(pid, self.proc)
            if reading is None:
                self.gone.add(name)
                continue
            cpu = None
            previous = self._last.get(name)
            if previous is not None and elapsed_s > previous[0]:
                cpu = 100.0 * (reading.cpu_s - previous[1].cpu_s) / (elapsed_s - previous[0])
            self._last[name] = (elapsed_s, reading)
            rss = reading.rss_bytes / 1e6
            if elapsed_s >= self.warmup_s:
                self._window_rss.setdefault(name, []).append(rss)
            out.append(ProcSample(name, pid, elapsed_s, rss, cpu))
        return out

    def finish(self, elapsed_s: float) -> None:
        """Close the last window if it is whole at `elapsed_s` (call once, after the last
        sample); a partial last window is dropped, like the latency windows."""
        end = self.warmup_s + (self._window_index + 1) * self.window_s
        if end > elapsed_s + 1e-6:
            self._window_rss = {}
        self._close_window()

    def _close_window(self) -> None:
        if self._window_index < 0:
            self._window_rss.clear()
            return
        end = self.warmup_s + (self._window_index + 1) * self.window_s
        for name, values in self._window_rss.items():
            if values:
                self.windows.setdefault(name, []).append((end, statistics.fmean(values)))
        self._window_rss = {}

    def growth_pct(self) -> dict[str, float]:
        """Per process: mean RSS of the last window over the first after the warm-up, in %."""
        growth = {}
        for name, means in self.windows.items():
            if len(means) >= 2 and means[0][1] > 0:
                growth[name] = 100.0 * (means[-1][1] - means[0][1]) / means[0][1]
        return growth
