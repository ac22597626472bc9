"""Wallet health: balance against the floor, age of the last good read, low state, read errors
and how much of the stake cap the legs use.

A balance whose last good read is older than the balance watcher's stale limit is shown apart,
in grey and named STALE: the registry keeps the last good value, so without its age an
hour-old balance would look live.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators import recording as rec
from arbqos.generators.dashboard.exprs import RATE, VENUE, WALLET, WALLET_AGE, Limits, v
from arbqos.generators.dashboard.panels import (
    AMBER,
    GREEN,
    GREY,
    RED,
    Override,
    Pos,
    Query,
    States,
    Steps,
    Threshold,
    below,
    row,
    timeline_panel,
    timeseries_panel,
)
from arbqos.generators.dashboard.stats import stat_panel
from arbqos.generators.promql import bucket, count, counter, duration, gauge, number

STAKE = "arb_stake_fraction_of_bank"


def _balances(limits: Limits) -> list[Query]:
    balance = f"min by (wallet, token) ({gauge('arb_wallet_balance_usd')}{{{WALLET}}})"
    fresh = f"({WALLET_AGE}) <= {number(limits.poll_stale_s)}"
    return [
        Query(f"{balance}\nand on (wallet) ({fresh})", "{{wallet}} {{token}}"),
        Query(f"{balance}\nunless on (wallet) ({fresh})", "{{wallet}} {{token}} STALE"),
    ]


def _stake_usage(cfg: ArbqosConfig) -> str:
    w, cap = duration(cfg.exec.qos_window_s), number(cfg.risk.stake_pct_cap)
    return (
        f"histogram_quantile(0.99, sum by (venue, le) (rate({bucket(STAKE)}{{{VENUE}}}[{w}])))\n"
        f"/ {cap}\nand on (venue) (sum by (venue) (increase({count(STAKE)}{{{VENUE}}}[{w}])) > 0)"
    )


def wallet_panels(cfg: ArbqosConfig, y: int) -> list[Any]:
    """The row header at `y` and its panels (ids 31-37)."""
    limits, floor = Limits.of(cfg), cfg.risk.balance_alert_usd
    poll, stale = number(limits.poll_interval_s), number(limits.poll_stale_s)
    w, cap = duration(cfg.exec.qos_window_s), cfg.risk.stake_pct_cap
    grey = {"color": {"mode": "fixed", "fixedColor": GREY}, "thresholds": Steps(GREY).model()}
    return [
        row(31, "Wallet health", y),
        stat_panel(
            32,
            "Wallet balance (last good read)",
            Pos(0, y + 1, 6, 5),
            _balances(limits),
            description=(
                f"Red below risk.balance_alert_usd = {number(floor)} USD (ArbWalletBalanceLow; "
                "arbqos never moves funds). Grey and STALE: the last good read is older than "
                f"the stale limit ({stale} s), so the value is not live."
            ),
            unit="currencyUSD",
            steps=below(floor),
            overrides=[Override("B", props=grey)],
        ),
        stat_panel(
            33,
            "Age of the last good balance read",
            Pos(6, y + 1, 5, 5),
            [Query(WALLET_AGE, "{{wallet}}")],
            description=(
                "Seconds since each wallet's balance was read successfully: the age the "
                "watcher measured at its last poll plus the time since that poll. Amber past "
                f"two polls ({number(2 * limits.poll_interval_s)} s, one poll is {poll} s), "
                f"red past the stale limit ({stale} s)."
            ),
            unit="s",
            steps=Steps(GREEN, ((2 * limits.poll_interval_s, AMBER), (limits.poll_stale_s, RED))),
            decimals=0,
            no_value="NO DATA (watcher down?)",
        ),
        timeline_panel(
            34,
            "Wallet below the floor",
            Pos(11, y + 1, 7, 5),
            [
                Query(
                    f"max by (wallet) ({gauge('arb_wallet_balance_low')}{{{WALLET}}})", "{{wallet}}"
                )
            ],
            description=(
                f"LOW from a read below {number(floor)} USD until the balance is back above "
                "the floor plus the recovery margin (one alert per dip)."
            ),
            states=States({"0": ("ok", GREEN), "1": ("LOW", RED)}),
        ),
        timeseries_panel(
            35,
            "Balance read errors by class",
            Pos(18, y + 1, 6, 5),
            "short",
            [
                Query(
                    "sum by (wallet, error) (increase("
                    f"{counter('arb_balance_read_errors_total')}{{{WALLET}}}[{RATE}])) > 0",
                    "{{wallet}} {{error}}",
                )
            ],
            description=(
                "Failed balance reads per interval (timeout, connect, http_429, ...). While "
                "reads fail the last good balance is kept and ages (left)."
            ),
            bars=True,
            bounds=(0, None),
            no_value="no failed read",
        ),
        stat_panel(
            36,
            f"Stake cap usage ({w})",
            Pos(0, y + 6, 8, 6),
            [
                Query(_stake_usage(cfg), "p99 leg {{venue}}"),
                Query(v(rec.STAKE_ABOVE_CAP_WINDOW), "legs above cap {{venue}}"),
                Query(
                    f"sum by (venue) (increase({counter('arb_stake_unchecked_total')}"
                    f"{{{VENUE}}}[{w}]))",
                    "legs unchecked (no bank) {{venue}}",
                ),
                Query(
                    f"max({gauge('arb_engine_bank_usd')}) and on () "
                    f"(min({gauge('arb_engine_bank_known')}) == 1)",
                    "bank the engine sizes against",
                ),
            ],
            description=(
                f"p99 of each leg's stake / bank, as a share of risk.stake_pct_cap = "
                f"{number(cap)}: amber from 80 %, red from 100 %. Legs above the cap in the "
                f"last {w}: any, and ArbStakeCapExceeded fires. Legs unchecked: sent while the "
                "engine knew no bank (a wallet missing from the registry or older than "
                "risk.bank_max_age_s): any, and ArbStakeCapUnchecked fires. The bank the engine "
                "divides by, shown only while it is known."
            ),
            unit="percentunit",
            steps=Steps(GREEN, ((0.8, AMBER), (1.0, RED))),
            decimals=0,
            overrides=[
                Override(
                    ref,
                    props={"unit": "short", "thresholds": Steps(GREEN, ((1, RED),)).model()},
                )
                for ref in ("B", "C")
            ]
            + [Override("D", props={"unit": "currencyUSD", **grey})],
            no_value="no leg in the window",
        ),
        timeseries_panel(
            37,
            "Stake per leg as a share of the bank (p99) and legs above the cap",
            Pos(8, y + 6, 16, 6),
            "percentunit",
            [
                Query(
                    "histogram_quantile(0.99, sum by (venue, le) "
                    f"(rate({bucket(STAKE)}{{{VENUE}}}[{RATE}])))\nand on (venue) "
                    f"(sum by (venue) (increase({count(STAKE)}{{{VENUE}}}[{RATE}])) > 0)",
                    "p99 {{venue}}",
                ),
                Query(v(rec.STAKE_ABOVE_CAP_WINDOW), f"legs above cap in {w} {{{{venue}}}}"),
            ],
            description=(
                f"Dashed: risk.stake_pct_cap = {number(cap)}. B (right axis): legs above the cap "
                f"in the last {w}; any, and ArbStakeCapExceeded fires."
            ),
            threshold=Threshold(cap),
            right_axis={"B": "short"},
            bounds=(0, None),
        ),
    ]
