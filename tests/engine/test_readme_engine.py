"""The README's "Instrumenting the engine" names only what `connect()` really returns."""

from __future__ import annotations

import re

from arbqos.engine import ChangeCause, EngineQos, TradingChange
from arbqos.metrics.definitions import METRICS
from arbqos.vocab import AlertName
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
SECTION = README.split("## Instrumenting the engine", 1)[1].split("\n## ", 1)[0]


def test_the_example_is_built_around_the_one_call() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", SECTION, flags=re.DOTALL)
    assert "from arbqos.engine import TradingChange, connect" in example
    assert 'connect(Path("config"), env=os.environ)' in example
    assert "qos.trading_allowed()" in example and "qos.on_pause(" in example


def test_every_attribute_of_qos_it_names_exists() -> None:
    named = set(re.findall(r"\bqos\.([a-z_]+)", SECTION))
    assert {"trading_allowed", "on_pause", "tracker", "close"} <= named
    missing = sorted(n for n in named if not hasattr(EngineQos, n) and n not in _INSTANCE)
    assert missing == []


def test_the_words_it_uses_exist() -> None:
    for metric in re.findall(r"`(arb_[a-z_]+)", SECTION):
        assert metric.removesuffix("{venue}") in METRICS, metric
    for alert in re.findall(r"`(Arb[A-Za-z0-9]+)`", SECTION):
        assert alert in set(AlertName), alert
    for cause in ("guard", "orchestrator", "unreachable"):
        assert ChangeCause(cause) and f"`{cause}`" in SECTION
    for field in ("allowed", "cause", "reasons", "detail", "at"):
        assert field in TradingChange.__dataclass_fields__ and f"`{field}`" in SECTION


_INSTANCE = {"config", "registry", "tracker", "guard", "orchestrator", "exporter", "config_hash"}
"""Attributes set in `EngineQos.__init__` (not visible on the class)."""
