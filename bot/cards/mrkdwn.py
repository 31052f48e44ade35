"""Slack mrkdwn text helpers: escaping, Slack-length counting, cutting to fit, human formats.

Pure string functions, shared by every Block Kit builder.
"""

from __future__ import annotations

from collections.abc import Callable

QUOTE_MAX = 2600  # leaves room in a 3000-char section for the author line
_URL_MAX = 1000


def escape(text: str) -> str:
    """Slack mrkdwn escaping: & < > become entities, so the text can never form a link or mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_len(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units: an emoji can count 2), never less than len()."""
    return len(text.encode("utf-16-le")) // 2


def fit(raw: str, render: Callable[[str, bool], str], budget: int) -> tuple[str, bool]:
    """render(prefix) for the longest prefix of `raw` whose rendering fits `budget`.

    `render(s, cut)` must grow with len(s). Returns (rendered, truncated). Binary search keeps this
    exact whatever escaping or quoting does to the length.
    """
    whole = render(raw, False)
    if slack_len(whole) <= budget:
        return whole, False
    lo, hi = 0, len(raw)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if slack_len(render(raw[:mid], True)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return render(raw[:lo], True), True


def plain(text: str, cut: bool) -> str:
    return escape(text.rstrip() + "…" if cut else text)


def clip(text: str, budget: int) -> str:
    """Escaped `text`, cut with "…" to fit `budget` (in Slack length)."""
    return fit(text, plain, budget)[0]


def _quote(text: str, cut: bool) -> str:
    body = text.rstrip() + "…" if cut else text
    lines = escape(body).splitlines() or [""]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def quote(text: str, budget: int = QUOTE_MAX) -> tuple[str, bool]:
    """The customer text as an escaped mrkdwn block quote within `budget`; (quote, truncated)."""
    if not text.strip():
        return "> _(no text)_", False
    return fit(text, _quote, budget)


def safe_url(url: str | None) -> str | None:
    """A URL that is safe inside <url|label>, or None (not http(s), or absurdly long)."""
    if not url or not url.startswith(("https://", "http://")) or len(url) > _URL_MAX:
        return None
    return url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")


def human_count(n: int) -> str:
    """12 → "12", 1234 → "1.2k", 12345 → "12.3k", 999999 → "1M", 1_530_000 → "1.5M"."""
    if n < 1000:
        return str(max(n, 0))
    value = float(n)
    for suffix in ("k", "M", "B"):
        value /= 1000
        shown = round(value, 1)
        # 999_950 rounds to 1000.0k: say "1M" instead.
        if shown < 1000 or suffix == "B":
            return f"{shown:.1f}".removesuffix(".0") + suffix
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """42 → "<1m", 2520 → "42m", 11100 → "3h 5m", 187200 → "2d 4h"."""
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def cut_mrkdwn(text: str, budget: int) -> str:
    """Cut our own mrkdwn to `budget` without leaving half a <link|label> or <@mention>."""
    if slack_len(text) <= budget:
        return text
    cut = text[: budget - 1]
    while slack_len(cut) > budget - 1:  # astral characters count 2
        cut = cut[:-1]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    return cut.rstrip() + "…"
