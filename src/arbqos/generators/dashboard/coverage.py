"""Metrics the services export that the dashboard leaves out on purpose, and why.

A test checks that every metric of `arbqos.metrics.definitions.METRICS` appears in a panel
or an annotation of the dashboard (directly or through a recording rule), or here.
"""

from __future__ import annotations

NOT_ON_DASHBOARD: dict[str, str] = {
    "arb_chain_head_block": (
        "a block number alone tells an operator nothing; whether the chain progresses is "
        "arb_chain_head_age_seconds (Chain head age) and ArbChainHeadStale"
    ),
}
"""Metric name -> why it is not on the dashboard."""
