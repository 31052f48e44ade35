"""Triage: language, tone, complaint flag and priority (with reasons) for one message.

    >>> classify("@acme me cobraron dos veces, quiero un reembolso").as_json()["priority"]
    'high'

Pure functions of the text and the author's reach; the analyzers behind them load lazily, once per
process. `classify_lines` is what `parley classify` runs.

Tone in English and Spanish, and complaints in English, come from models trained on labelled public
tweets (bot.triage.model, scripts/train_triage.py); text with no letters ("und", mostly emoji) is
read by VADER, which knows emoji; other languages get tone "unknown". A named problem from the keyword
rules is a complaint in any language; Spanish has no public complaint data, so otherwise a Spanish
complaint is what transfers (bot.triage.transfer: the Spanish tone model, VADER, the rules, a
question, persistence markers, weighed on the project's own labelled Spanish tweets); in other
languages, a negative tone. `score` is VADER's compound
score (0.0 where tone is not scored).

Priority, highest factor wins:
- urgent: safety / legal / security / fraud / hacked-account words, or a complaint from an account
  with at least 100k followers;
- high: a complaint, strongly negative tone, a refund / cancel / broken / chargeback keyword (unless
  the message is praise), at least 10k followers, a verified account;
- low: spam (overrides everything), or praise / thanks with nothing else to act on;
- normal otherwise.
`reasons` lists every factor that raised or lowered it, plus notes such as "tone not scored for fr".
"Strongly negative" stays a VADER score threshold: a lexicon score is what a reason can explain.

Only the first `MAX_TRIAGE_CHARS` characters are read (VADER's cost grows with the square of the
length: a 63,206-character Facebook post took about 5 s, its first 5,000 characters take 0.05 s); a
longer text says so in its reasons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TextIO

import numpy as np

from bot.store.models import Priority, Tone
from bot.triage import model, transfer
from bot.triage.features import columns, count
from bot.triage.language import detect_language
from bot.triage.rules import Findings, scan
from bot.triage.tone import tone_label, tone_score

__all__ = ["MAX_TRIAGE_CHARS", "Triage", "classify", "classify_lines"]

MAX_TRIAGE_CHARS = 5_000  # the opening of a long post says what it is about; the rest costs seconds

SCORED_LANGUAGES = frozenset({"en", "es", "und"})  # "und" is mostly emoji, which VADER reads well
TONES = (Tone.NEGATIVE, Tone.NEUTRAL, Tone.POSITIVE)  # the tone models' classes, in order
COMPLAINT_PROBABILITY = 0.5
LARGE_ACCOUNT = 10_000
VERY_LARGE_ACCOUNT = 100_000
STRONGLY_NEGATIVE = -0.6  # compound score at or below which tone alone makes a message high

Counted = tuple[np.ndarray, np.ndarray]  # bot.triage.features.count() of one text
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


@dataclass(frozen=True)
class ToneReading:
    """What `read_tone` found: the tone, VADER's compound score, notes for `reasons`, and the tone
    model's class probabilities (None where no model read the text)."""

    tone: Tone
    score: float
    notes: list[str]
    probabilities: np.ndarray | None = None


def read_tone(text: str, language: str, features: Counted) -> ToneReading:
    """The tone of `text` written in `language`, with its counted features."""
    if language not in SCORED_LANGUAGES:
        return ToneReading(Tone.UNKNOWN, 0.0, [f"tone not scored for {language}"])
    score = round(tone_score(text, language), 4)
    if language == "und":
        return ToneReading(Tone(tone_label(score)), score, [])
    probabilities = model.get(f"tone_{language}").probabilities(features, score)
    return ToneReading(TONES[int(probabilities.argmax())], score, [], probabilities)


def is_complaint(text: str, features: Counted, language: str, reading: ToneReading, found: Findings) -> str | None:
    """Why the text is a complaint, for the card ("problem: no funciona", "complaint model 83%"),
    or None when it is not: the English model, the Spanish transfer model, else a negative tone."""
    if found.urgent:
        return None  # "urgent: …" is already the reason
    if found.complaint_cues:
        # The customer-service problem phrases of bot.triage.rules ("still waiting", "no funciona"),
        # which the public tweets the model learnt from rarely contain.
        return f"problem: {found.complaint_cues[0]}"
    if language in ("en", "und"):
        p = float(model.get("complaint_en").probabilities(features, reading.score)[1])
    elif language == "es" and reading.probabilities is not None:
        # No Spanish complaint data to learn n-grams from: what transfers (bot.triage.transfer).
        p = transfer.probability(transfer.features(reading.probabilities, reading.score, found, text))
    else:
        return "negative tone" if reading.tone is Tone.NEGATIVE else None
    return f"complaint model {p:.0%}" if p >= COMPLAINT_PROBABILITY else None


def classify(
    text: str, *, followers: int | None = None, verified: bool = False, lang_hint: str | None = None,
    limit: int = MAX_TRIAGE_CHARS,
) -> Triage:
    """Triage one customer message from its first `limit` characters (a longer text gets a note in
    `reasons`). Never raises on any string; other languages get tone "unknown"."""
    prefix_note = [f"triaged on the first {limit:,} of {len(text):,} characters"] if len(text) > limit else []
    text = text[:limit]
    triage = _classify(text, followers=followers, verified=verified, lang_hint=lang_hint)
    return replace(triage, reasons=triage.reasons + tuple(prefix_note)) if prefix_note else triage


def _classify(text: str, *, followers: int | None, verified: bool, lang_hint: str | None) -> Triage:
    language = detect_language(text, lang_hint)
    features = count(columns(text))  # once: both models read the same hashed n-grams
    reading = read_tone(text, language, features)
    tone, score, notes = reading.tone, reading.score, reading.notes
    found = scan(text)
    if found.complaint_cues and tone in (Tone.POSITIVE, Tone.NEUTRAL):
        # "Great, late again. Love that for me": positive words around a named problem are sarcasm
        # or a "but" contrast, and a plainly stated problem ("no funciona") is neutral only in the
        # general tweets the models learnt from; agents read both as negative. `score` stays VADER's.
        if tone is Tone.POSITIVE:
            notes.append("positive words in a complaint read as negative")
        tone = Tone.NEGATIVE

    if found.spam:
        return Triage(language, tone.value, False, Priority.LOW.value, ("looks like spam", *notes), score)

    why = is_complaint(text, features, language, reading, found)
    if why is not None and why != "negative tone":  # "negative tone" is listed as a factor anyway
        notes.insert(0, why)
    complaint = bool(found.urgent) or why is not None  # safety, legal, fraud: always a complaint
    return _verdict(language, tone, score, complaint, found, followers, verified, notes)


def _verdict(language: str, tone: Tone, score: float, complaint: bool, found: Findings, followers: int | None,
             verified: bool, notes: list[str]) -> Triage:
    """Priority from every factor, highest wins, with the reasons that raised or lowered it."""
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
