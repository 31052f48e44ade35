"""Triage, first cut: language, tone, complaint flag and priority (with reasons) for one message.

    >>> classify("@acme me cobraron dos veces, quiero un reembolso").as_json()["priority"]
    'high'

Pure functions of the text and the author's reach; the analyzers behind them load lazily, once per
process. `classify_lines` is what `parley classify` runs.

Priority, highest factor wins:
- urgent: safety / legal / security / fraud / hacked-account words, or a complaint from an account
  with at least 100k followers;
- high: a complaint, strongly negative tone, a refund / cancel / broken / chargeback keyword (unless
  the message is praise), at least 10k followers, a verified account;
- low: spam (overrides everything), or praise / thanks with nothing else to act on;
- normal otherwise.
`reasons` lists every factor that raised or lowered it, plus notes such as "tone not scored for fr".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from bot.store.models import Priority, Tone
from bot.triage.language import detect_language
from bot.triage.rules import scan
from bot.triage.tone import tone_label, tone_score

__all__ = ["Triage", "classify", "classify_lines"]

SCORED_LANGUAGES = frozenset({"en", "es", "und"})  # "und" is mostly emoji, which VADER reads well
LARGE_ACCOUNT = 10_000
VERY_LARGE_ACCOUNT = 100_000
STRONGLY_NEGATIVE = -0.6  # compound score at or below which tone alone makes a message high
COMPLAINT_TONE = -0.3  # negative enough that, towards a brand, it reads as a complaint

_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


@dataclass(frozen=True)
class Triage:
    """The verdict on one message. `tone` and `priority` hold bot.store.models Tone / Priority values."""

    language: str
    tone: str
    complaint: bool
    priority: str
    reasons: tuple[str, ...]
    score: float

    def as_json(self) -> dict:
        """A JSON-ready dict: language, tone, complaint, priority, reasons (a list), score."""
        return {
            "language": self.language,
            "tone": self.tone,
            "complaint": self.complaint,
            "priority": self.priority,
            "reasons": list(self.reasons),
            "score": self.score,
        }


def format_followers(count: int) -> str:
    """12345 -> "12.3k followers", 250000 -> "250k followers", 1200000 -> "1.2M followers"."""
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + f"{unit} followers"
    return f"{count} followers"


def classify(
    text: str, *, followers: int | None = None, verified: bool = False, lang_hint: str | None = None
) -> Triage:
    """Triage one customer message. Never raises on any string; unknown languages get neutral tone."""
    language = detect_language(text, lang_hint)
    notes: list[str] = []
    if language in SCORED_LANGUAGES:
        score = round(tone_score(text, language), 4)
    else:
        score = 0.0
        notes.append(f"tone not scored for {language}")
    tone = Tone(tone_label(score))
    found = scan(text)
    if found.complaint_cues and tone is Tone.POSITIVE:
        # "Great, late again. Love that for me": positive words around a named problem are sarcasm
        # or a "but" contrast, and agents read the message as negative. `score` stays VADER's.
        tone = Tone.NEGATIVE
        notes.append("positive words in a complaint read as negative")

    if found.spam:
        return Triage(language, tone.value, False, Priority.LOW.value, ("looks like spam", *notes), score)

    complaint = bool(found.complaint_cues or found.urgent) or score <= COMPLAINT_TONE
    praise = tone is Tone.POSITIVE and not complaint
    factors: list[tuple[Priority, str]] = [(Priority.URGENT, f"urgent: {name}") for name in found.urgent]
    if complaint:
        factors.append((Priority.HIGH, "complaint"))
        if followers is not None and followers >= VERY_LARGE_ACCOUNT:
            factors.append((Priority.URGENT, "complaint from a very large account"))
    if score <= STRONGLY_NEGATIVE:
        factors.append((Priority.HIGH, "strongly negative tone"))
    elif tone is Tone.NEGATIVE:
        factors.append((Priority.NORMAL, "negative tone"))
    if not praise:
        factors += [(Priority.HIGH, f"keyword: {k}") for k in found.keywords]
    if followers is not None and followers >= LARGE_ACCOUNT:
        factors.append((Priority.HIGH, format_followers(followers)))
    if verified:
        factors.append((Priority.HIGH, "verified account"))

    priority = max((level for level, _ in factors), key=_RANK.__getitem__, default=Priority.NORMAL)
    if priority is Priority.NORMAL and praise and not found.question:
        priority = Priority.LOW
        factors.append((Priority.LOW, "praise/thanks only"))
    reasons = tuple(reason for _, reason in factors) + tuple(notes)
    return Triage(language, tone.value, complaint, priority.value, reasons, score)


def classify_lines(lines: Iterable[str], out: TextIO) -> int:
    """Classify one text per line, writing one JSON object per line; blank lines are skipped.

    Each object is `Triage.as_json()` with the input line first under "text", so the output can be
    read on its own. Returns how many texts were classified. Non-ASCII is written as is, not escaped.
    """
    count = 0
    for line in lines:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        out.write(json.dumps({"text": text, **classify(text).as_json()}, ensure_ascii=False) + "\n")
        count += 1
    return count
