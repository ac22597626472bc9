"""Entry point of `python -m arbqos_harness.snapshot`."""

from arbqos_harness.snapshot.cli import main

raise SystemExit(main())
