"""Turn a `Notice` into a short plain-text title and body that fit a channel's size limit.

Sample (a warning alert, as a Telegram message):

    [vps-1] WARNING firing: azuro wallet below 15 USD
    what: ArbWalletBalanceLow
    where: wallet=azuro, chain=polygon, token=USDT
    value: 12.40 USD (threshold 15 USD)
    since: 2026-11-26T03:12:07.000Z
    trading: running
    The azuro wallet on polygon holds 12.40 USD of USDT, below 15 USD. Top it up by hand.

Lengths are counted in UTF-16 code units, the way Telegram counts its 4096-character limit,
with each newline counted twice (apprise sends it as CR LF).
When the text is too long the description is cut first, then the list is cut with
`… and 12 more reasons`; the facts above them always stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from arbqos.clock import format_ts
from arbqos.notify.notice import Notice, NoticeKind
from arbqos.vocab import Severity

TELEGRAM_LIMIT = 4096
"""Telegram's limit for one message; the default limit for every channel."""
TITLE_MAX = 200
LINE_MAX = 600
ITEM_MAX = 400
TITLE_SEPARATOR = 2
"""Apprise joins title and body with `\\r\\n` on channels without a separate title."""
ELLIPSIS = "…"
NEWLINE = 2
"""What one line break costs (`\r\n`)."""


@dataclass(frozen=True)
class Rendered:
    """A notice as text: `title` and `body` together fit the limit they were rendered for."""

    title: str
    body: str
    notify_type: str
    """apprise notify type: `failure`, `warning`, `info` or `success`."""
    items_left_out: int = 0


def text_units(text: str) -> int:
    """Length as channels count it: UTF-16 code units (an emoji counts 2), a newline 2.

    Telegram counts its limit in UTF-16 units, and apprise sends each newline as `\r\n`.
    """
    return len(text.encode("utf-16-le")) // 2 + text.count("\n")


def clip(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` units, ending with `…` when something was cut."""
    if text_units(text) <= limit:
        return text
    if limit <= 0:
        return ""
    out, used = [], 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF or char == "\n" else 1
        if used + size > limit - 1:
            break
        out.append(char)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


def render_notice(
    notice: Notice, *, limit: int = TELEGRAM_LIMIT, instance: str = "", note: str = ""
) -> Rendered:
    """Render `notice` so that title + separator + body fit in `limit` units.

    Args:
        limit: the channel's message limit (Telegram 4096, Discord 2000, ...).
        instance: a name for this installation, shown as `[name]` at the start of the title.
        note: one extra line (e.g. how many earlier notices this channel dropped).
    """
    if limit < 200:
        raise ValueError(f"limit {limit} is too small for a notice; use at least 200")
    prefix = f"[{instance}] " if instance else ""
    title = clip(prefix + _headline(notice), min(TITLE_MAX, limit // 4))
    budget = limit - text_units(title) - TITLE_SEPARATOR
    head = "\n".join(clip(line, LINE_MAX) for line in [*_facts(notice), note] if line)
    if text_units(head) > budget:
        return Rendered(title, clip(head, budget), _notify_type(notice), len(notice.items))
    room = budget - text_units(head)
    items, left_out = _fit_items(notice, room)
    room -= NEWLINE + text_units(items) if items else 0
    detail = notice.detail.strip()
    if detail and NEWLINE + text_units(detail) > room:
        detail = clip(detail, room - NEWLINE) if room > 40 else ""
    body = "\n".join(part for part in (head, detail, items) if part)
    return Rendered(title, body, _notify_type(notice), left_out)


def _fit_items(notice: Notice, room: int) -> tuple[str, int]:
    """The list block that fits `room` units (counting its leading newline), and the count cut.

    Items are kept in order; when some do not fit, the block ends with `… and N more <noun>`.
    """
    total = len(notice.items)
    if not total:
        return "", 0
    noun = notice.items_noun
    lines = [f"{noun} ({total}):"]
    used = NEWLINE + text_units(lines[0])
    for index, item in enumerate(notice.items):
        line = "- " + clip(item, ITEM_MAX)
        rest = total - index - 1
        reserve = NEWLINE + text_units(f"{ELLIPSIS} and {rest} more {noun}") if rest else 0
        if used + NEWLINE + text_units(line) + reserve > room:
            break
        lines.append(line)
        used += NEWLINE + text_units(line)
    left_out = total - (len(lines) - 1)
    if left_out:
        lines.append(f"{ELLIPSIS} and {left_out} more {noun}")
    block = "\n".join(lines)
    if NEWLINE + text_units(block) > room:
        block = clip(f"({total} {noun} left out: the message is full)", room - NEWLINE)
    return block, left_out


def _headline(notice: Notice) -> str:
    severity = notice.severity.upper()
    what = notice.summary or notice.subject
    more = len(notice.items) - 1
    headlines = {
        NoticeKind.ALERT_FIRING: f"{severity} firing: {what}",
        NoticeKind.ALERT_RESOLVED: f"resolved: {what}",
        NoticeKind.PAUSED: f"CRITICAL trading PAUSED: {notice.subject}"
        + (f" (+{more} more reasons)" if more > 0 else ""),
        NoticeKind.REASON_ADDED: f"still PAUSED, reason added: {notice.subject}",
        NoticeKind.RESUMED_BY_ADMIN: "trading RESUMED by an admin",
        NoticeKind.RESUMED_AUTOMATICALLY: "trading RESUMED automatically",
        NoticeKind.ALERT_PATH_SILENT: f"CRITICAL alert path SILENT: {what}",
        NoticeKind.ALERT_PATH_BACK: f"alert path back: {what}",
    }
    return headlines[notice.kind]


def _facts(notice: Notice) -> list[str]:
    """The lines that always stay: what, where, value, times, who, trading state, resume."""
    lines = []
    if notice.kind in (NoticeKind.ALERT_FIRING, NoticeKind.ALERT_RESOLVED):
        lines.append(f"what: {notice.subject}")
    if notice.where:
        lines.append("where: " + ", ".join(f"{k}={v}" for k, v in notice.where.items()))
    if notice.value and notice.threshold:
        lines.append(f"value: {notice.value} (threshold {notice.threshold})")
    elif notice.value or notice.threshold:
        lines.append(f"value: {notice.value}" if notice.value else f"threshold: {notice.threshold}")
    if notice.since is not None:
        lines.append(f"since: {format_ts(notice.since)}")
    if notice.ended is not None:
        lines.append(f"{_ended_word(notice.kind)}: {format_ts(notice.ended)}{_lasted(notice)}")
    if notice.actor:
        lines.append(f"by: {notice.actor}")
    if notice.paused is not None:
        lines.append("trading: PAUSED" if notice.paused else "trading: running")
    if notice.resume:
        lines.append(f"resume: {notice.resume}")
    return lines


def _ended_word(kind: NoticeKind) -> str:
    if kind in (NoticeKind.RESUMED_BY_ADMIN, NoticeKind.RESUMED_AUTOMATICALLY):
        return "resumed"
    return "back" if kind is NoticeKind.ALERT_PATH_BACK else "resolved"


def _lasted(notice: Notice) -> str:
    if notice.since is None or notice.ended is None or notice.ended < notice.since:
        return ""
    seconds = int((notice.ended - notice.since).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s" if minutes else f"{secs}s"
    return f" (after {text})"


def _notify_type(notice: Notice) -> str:
    if notice.kind in (NoticeKind.PAUSED, NoticeKind.REASON_ADDED, NoticeKind.ALERT_PATH_SILENT):
        return "failure"
    if notice.kind is NoticeKind.ALERT_FIRING:
        return {Severity.CRITICAL: "failure", Severity.WARNING: "warning"}.get(
            notice.severity, "info"
        )
    return "success"
