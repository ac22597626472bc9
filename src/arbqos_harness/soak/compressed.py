"""Compressed soak: two hours of demo traffic through the simulators in virtual time.

Both simulators and the real engine (`ArbEngine`) share one `FakeClock`. Every opportunity
moves the clock by 1/rate s; betting delays are zero, so the run takes as long as the work;
confirmation, settlement and any retention run on the virtual clock. One opportunity in
`engine_every` goes through the engine over in-process HTTP (`httpx.ASGITransport`: the apps'
own middleware, routing and handlers: quotes, fills, order polls); the others call the
simulators' order handlers directly with the same bodies (parsing, decision, decision log,
trade and order records, without the HTTP layer), which keeps two hours of traffic within a
minute. The engine checks settlements every `settle_poll_s` over HTTP, for every bet of its
wallets (the direct legs use the same wallets); the heartbeat's venue probes (`/metadata`,
the Azuro order probe, the subgraph `_meta`) run every `probe_every_s`. Each request is timed
in CPU seconds of this thread (the whole request runs on it), so other processes on the
machine do not move the figures; per bucket of virtual time the median and p95 per endpoint
are kept, and the RSS after a full garbage collection at each bucket end.

Run: `python -m arbqos_harness.soak.compressed [--legs 30000] [--json out.json]`.
Prints one line `RESULT sim_soak ...`; exit 1 when latency or memory is not flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from arbqos_harness.soak.flatness import (
    P50_DRIFT_MAX,
    P95_DRIFT_MAX,
    RSS_GROWTH_PCT_MAX,
    CompressedReport,
    CompressedSettings,
)
from arbqos_harness.soak.virtual import run_compressed

__all__ = [
    "P50_DRIFT_MAX",
    "P95_DRIFT_MAX",
    "RSS_GROWTH_PCT_MAX",
    "CompressedReport",
    "CompressedSettings",
    "main",
    "run_compressed",
]


def main(argv: list[str] | None = None) -> int:
    """Run the compressed soak, print the table and the RESULT line; 1 when not flat."""
    parser = argparse.ArgumentParser(prog="python -m arbqos_harness.soak.compressed")
    parser.add_argument("--legs", type=int, default=CompressedSettings.legs)
    parser.add_argument("--wall-limit-s", type=float, default=CompressedSettings.wall_limit_s)
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    settings = CompressedSettings(legs=args.legs, wall_limit_s=args.wall_limit_s)
    with tempfile.TemporaryDirectory(prefix="arbqos-sim-soak-") as tmp:
        report = asyncio.run(run_compressed(settings, Path(tmp)))
    for line in report.table():
        print(line)
    for problem in report.problems:
        print(f"FAIL {problem}")
    print(report.result_line())
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    sys.stdout.flush()
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
