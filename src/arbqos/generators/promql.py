"""Formatting helpers shared by the generators: durations, numbers and histogram selectors."""

from __future__ import annotations

from arbqos.metrics.definitions import METRICS, format_le

_UNITS: tuple[tuple[str, int], ...] = (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def duration(seconds: float) -> str:
    """Render seconds as a Prometheus / Alertmanager duration: `5m`, `1m30s`, `500ms`, `0s`.

    >>> duration(300), duration(90), duration(0.5), duration(0)
    ('5m', '1m30s', '500ms', '0s')
    """
    total_ms = round(seconds * 1000)
    if total_ms < 0:
        raise ValueError(f"duration must not be negative, got {seconds} s")
    if total_ms == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in _UNITS:
        count, total_ms = divmod(total_ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def number(value: float) -> str:
    """Render a threshold for PromQL and annotations: `15`, `0.85`, `12.5` (no float noise).

    >>> number(15.0), number(0.85), number(1e-7)
    ('15', '0.85', '1e-07')
    """
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def counter(name: str) -> str:
    """Return the exposition name of a contract counter (checked against the definitions)."""
    spec = METRICS[name]
    if spec.type != "counter":
        raise ValueError(f"{name} is a {spec.type}, not a counter")
    return name


def gauge(name: str) -> str:
    """Return the name of a contract gauge (checked against the definitions)."""
    spec = METRICS[name]
    if spec.type != "gauge":
        raise ValueError(f"{name} is a {spec.type}, not a gauge")
    return name


def bucket(name: str, le: float | None = None) -> str:
    """Return `<histogram>_bucket`, with an exact `le` matcher when `le` is given."""
    if METRICS[name].type != "histogram":
        raise ValueError(f"{name} is not a histogram")
    if le is None:
        return f"{name}_bucket"
    return f'{name}_bucket{{le="{format_le(le)}"}}'


def count(name: str) -> str:
    """Return `<histogram>_count`."""
    if METRICS[name].type != "histogram":
        raise ValueError(f"{name} is not a histogram")
    return f"{name}_count"


def increase_by(labels: str, selector: str, window: str) -> str:
    """`sum by (labels) (increase(selector[window]))`."""
    return f"sum by ({labels}) (increase({selector}[{window}]))"


def quantile_by(q: float, labels: str, histogram: str, window: str, selector: str = "") -> str:
    """Return `histogram_quantile(q, ...)` by `labels`, silenced when nothing was observed.

    Without the guard an idle histogram yields NaN series; with it, no series at all.
    """
    return (
        f"histogram_quantile({number(q)}, sum by ({labels}, le) "
        f"(rate({bucket(histogram)}{selector}[{window}])))\n"
        f"and on ({labels}) "
        f"(sum by ({labels}) (increase({count(histogram)}{selector}[{window}])) > 0)"
    )
