"""Entry point of `python -m arbqos.demo.snapshot`."""

from arbqos.demo.snapshot.cli import main

raise SystemExit(main())
