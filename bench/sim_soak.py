"""Two hours of demo traffic through the venue simulators and the engine, in virtual time.

30,000 legs (the demo's 2 opportunities a second for about two hours) on a fake clock, no
betting delays; see `arbqos_harness.soak.compressed` for how the traffic is driven and
measured. Per bucket of 10 virtual minutes it prints RSS, kept records, decision-log size and
the median / p95 CPU milliseconds of every endpoint, then:

    RESULT sim_soak legs=<n> virtual_s=<x> wall_s=<x> completed=<0|1> p50_drift_max=<x>
        p50_worst=<endpoint> p95_drift_max=<x> p95_worst=<endpoint> rss_growth_pct=<x>
        retained_ratio=<x>

Exit 1 when latency or memory is not flat (the limits of the test
tests/harness/soak/test_compressed_soak.py).

Usage: .venv/bin/python bench/sim_soak.py [--legs 30000] [--wall-limit-s 120] [--json out.json]
"""

from __future__ import annotations

import sys

from arbqos_harness.soak.compressed import main

if __name__ == "__main__":
    sys.exit(main())
