"""`python -m arbqos_harness.snapshot DASHBOARD --prometheus URL --out PNG`."""

from __future__ import annotations

import argparse
from pathlib import Path

from arbqos_harness.snapshot.model import SnapshotError
from arbqos_harness.snapshot.render import render_snapshot
from arbqos_harness.snapshot.units import parse_duration

DESCRIPTION = (
    "Draw a Grafana dashboard JSON as one PNG from Prometheus range queries (no Grafana needed)."
)


def main(argv: list[str] | None = None) -> int:
    """`python -m arbqos_harness.snapshot`: render a dashboard JSON to a PNG."""
    parser = argparse.ArgumentParser(
        prog="python -m arbqos_harness.snapshot", description=DESCRIPTION
    )
    parser.add_argument("dashboard", type=Path)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--range", default=None, help="time range ending now, e.g. 15m")
    parser.add_argument("--scrape-interval", default="15s")
    parser.add_argument("--rate-interval", default=None)
    parser.add_argument("--var", action="append", default=[], help="NAME=VALUE (repeatable)")
    args = parser.parse_args(argv)
    try:
        overrides = dict(item.split("=", 1) for item in args.var)
        range_s = parse_duration(args.range) if args.range else None
        scrape = parse_duration(args.scrape_interval)
    except ValueError as err:
        parser.error(str(err))
    try:
        result = render_snapshot(
            args.dashboard,
            args.prometheus,
            args.out,
            range_s=range_s,
            variables=overrides,
            scrape_interval_s=scrape,
            rate_interval=args.rate_interval,
        )
    except SnapshotError as err:
        print(f"error: {err}")
        return 2
    size = f"{result.width_px}x{result.height_px} px"
    print(f"wrote {result.path} ({size}, {result.panel_count} panels)")
    for error in result.errors:
        print(f"panel error: {error}")
    return 0
