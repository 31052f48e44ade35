"""Accuracy of bot.triage on data its models never trained on, beside a VADER baseline, and its speed.

    python bench/triage_accuracy.py [--misses]

Macro-F1 per field on:
- the `val` splits of the English and Spanish tone data (data/triage/sentiment/*/val_*);
- the complaint hold-out: a fixed-seed 20 % of data/triage/complaints_train.csv that
  scripts/train_triage.py sets aside and never trains on;
- the Spanish complaint hold-out: a fixed-seed half of the project's own labelled Spanish tweets to
  brands (data/triage/complaints_es_own.csv, written for this, not taken from the public data),
  never trained on (the other half fits bot.triage.transfer);
- the project's own cases (tests/data/triage_cases.yaml), split into "holdout" (written after the
  rules and never tuned against, never trained on) and "tuned" (the rules were written from them,
  so their figures flatter the rules; shown for reference only).
Texts are classified the way Parley does (language detected, with the dataset's language as the
platform hint X gives). The baseline is the previous triage's reading: VADER's compound score (with
the project lexicons) at ±0.05 for tone, and "negative" for complaint; on the project's cases the
previous rule set is not re-run, the baseline is VADER alone as well. Then classifications/second,
warm (models loaded), single thread, beside plain VADER's polarity scores/second in the same run
(the floor: a classification runs VADER once plus language, n-grams, models and rules).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import triage_data  # noqa: E402

from bot.triage import classify  # noqa: E402
from bot.triage.tone import tone_label, tone_score  # noqa: E402

CASES = ROOT / "tests" / "data" / "triage_cases.yaml"
TONES = triage_data.TONES


def macro_f1(want: Sequence[object], have: Sequence[object]) -> float:
    """Mean F1 over the classes present in `want` (a wrong class in `have` costs precision only)."""
    scores = []
    for label in sorted(set(want), key=str):
        tp = sum(1 for w, h in zip(want, have, strict=True) if w == label and h == label)
        denominator = sum(1 for w in want if w == label) + sum(1 for h in have if h == label)
        scores.append(2 * tp / denominator)
    return sum(scores) / len(scores)


def vader_tone(text: str, lang: str) -> str:
    return tone_label(tone_score(text, lang if lang == "es" else "en"))


def row(name: str, n: int, model: float, baseline: float) -> None:
    print(f"  {name:<34} {n:>5}   {model:>6.3f}   {baseline:>8.3f}")


def public(misses: bool) -> None:
    """Tone on the val splits, complaint on the hold-out."""
    print(f"  {'field / data':<34} {'n':>5}   {'model':>6}   {'baseline':>8}")
    for lang in ("en", "es"):
        texts, labels = triage_data.sentiment(lang, "val")
        want = [TONES[y] for y in labels]
        have = [classify(t, lang_hint=lang).tone for t in texts]
        row(f"tone, {lang} val", len(texts), macro_f1(want, have), macro_f1(want, [vader_tone(t, lang) for t in texts]))
        if misses:
            _misses(texts, want, have)
    for lang, name, (_train, (texts, labels)) in (("en", "en hold-out", triage_data.complaints()),
                                                  ("es", "es own hold-out", triage_data.spanish_complaints())):
        want = [bool(y) for y in labels]
        have = [classify(t, lang_hint=lang).complaint for t in texts]
        baseline = [vader_tone(t, lang) == "negative" for t in texts]
        row(f"complaint, {name}", len(texts), macro_f1(want, have), macro_f1(want, baseline))
        if misses:
            _misses(texts, want, have)


def _misses(texts: list[str], want: list, have: list) -> None:
    for text, w, h in zip(texts, want, have, strict=True):
        if w != h:
            print(f"    want {w!s:<8} got {h!s:<8} {text}")


def own_cases(split: str, misses: bool) -> None:
    """Macro-F1 per field on the project's cases of `split`, by language."""
    cases = [c for c in yaml.safe_load(CASES.read_text("utf-8"))["cases"] if c.get("split", "tuned") == split]
    for lang in ("en", "es", "other"):
        group = [c for c in cases if (c["language"] if c["language"] in ("en", "es") else "other") == lang]
        got = [classify(c["text"], followers=c.get("followers"), verified=c.get("verified", False),
                        lang_hint=c.get("lang_hint")) for c in group]
        for field, baseline in (("language", None), ("tone", vader_tone), ("complaint", None), ("priority", None)):
            graded = [(c, g) for c, g in zip(group, got, strict=True) if field in c]
            if not graded:
                continue
            want = [c[field] for c, _ in graded]
            have = [getattr(g, field) for _, g in graded]
            base: Callable[[dict], object] | None = None
            if baseline is not None:
                base = lambda c: vader_tone(c["text"], c["language"])  # noqa: E731
            elif field == "complaint":
                base = lambda c: vader_tone(c["text"], c["language"]) == "negative"  # noqa: E731
            base_f1 = macro_f1(want, [base(c) for c, _ in graded]) if base else float("nan")
            row(f"{field}, {lang} {split}", len(graded), macro_f1(want, have), base_f1)
            if misses:
                _misses([c["text"] for c, _ in graded], want, have)


def speed(rounds: int = 3) -> tuple[float, float]:
    """(classifications per second, VADER polarity scores per second) over the English and Spanish
    val texts, warm, single thread, interleaved round by round so that both see the same machine
    load. Plain VADER is the floor: every classification runs it once, plus everything else."""
    texts = triage_data.sentiment("en", "val")[0] + triage_data.sentiment("es", "val")[0]
    vader = SentimentIntensityAnalyzer()
    classify(texts[0])
    spent = {"parley": 0.0, "vader": 0.0}
    for _ in range(rounds):
        for name, run in (("parley", classify), ("vader", vader.polarity_scores)):
            started = time.perf_counter()
            for text in texts:
                run(text)
            spent[name] += time.perf_counter() - started
    return rounds * len(texts) / spent["parley"], rounds * len(texts) / spent["vader"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every wrong verdict")
    args = parser.parse_args()
    started = time.perf_counter()
    classify("warm up: loads the language model, the lexicons and the trained models")
    print(f"first call (models load) {time.perf_counter() - started:.2f}s\n")
    print("public data, never trained on (macro-F1):")
    public(args.misses)
    print("\nproject cases never tuned nor trained on (macro-F1):")
    own_cases("holdout", args.misses)
    print("\nproject cases the rules were written from (reference only, macro-F1):")
    own_cases("tuned", args.misses)
    parley, vader = speed()
    print(f"\nspeed: {parley:,.0f} classifications/second (warm, single thread); "
          f"floor in the same run, VADER alone: {vader:,.0f}/s (ratio {parley / vader:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
