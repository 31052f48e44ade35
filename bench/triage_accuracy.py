"""Accuracy of bot.triage over tests/data/triage_cases.yaml, and its speed.

    python bench/triage_accuracy.py [--misses]

Prints per-field accuracy (overall and per expected language), a confusion table for tone, complaint
and priority, and classifications per second (warm: analyzers already loaded). A case only counts
for the fields it labels; "tuned" and "holdout" columns split the cases the rules were developed
against from those written afterwards and never tuned against. --misses lists every wrong field.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.triage import classify  # noqa: E402

CASES = ROOT / "tests" / "data" / "triage_cases.yaml"
FIELDS = ("language", "tone", "complaint", "priority")
# "tuned": cases the rules were developed against; "holdout": cases never tuned against.
GROUPS = ("all", "en", "es", "other", "tuned", "holdout")


def load_cases(path: Path = CASES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


def run(case: dict):
    return classify(case["text"], followers=case.get("followers"), verified=case.get("verified", False),
                    lang_hint=case.get("lang_hint"))


def evaluate(cases: list[dict]) -> tuple[dict, dict, list[tuple[str, dict, object]]]:
    """(hits/totals per (group, field), confusion counts per field, misses)."""
    score: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    confusion: dict[str, Counter] = defaultdict(Counter)
    misses = []
    for case in cases:
        got = run(case)
        group = case["language"] if case["language"] in ("en", "es") else "other"
        split = case.get("split", "tuned")
        for field in FIELDS:
            if field not in case:
                continue
            want, have = case[field], getattr(got, field)
            for key in ((group, field), ("all", field), (split, field)):
                score[key][1] += 1
                score[key][0] += want == have
            confusion[field][(str(want), str(have))] += 1
            if want != have:
                misses.append((field, case, got))
    return score, confusion, misses


def print_confusion(field: str, counts: Counter) -> None:
    labels = sorted({w for w, _ in counts} | {h for _, h in counts})
    width = max(10, *(len(x) for x in labels)) + 1
    print(f"\n{field}: rows = expected, columns = classified")
    print(" " * width + "".join(f"{x:>{width}}" for x in labels))
    for want in labels:
        print(f"{want:<{width}}" + "".join(f"{counts[(want, have)]:>{width}}" for have in labels))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    args = parser.parse_args()
    cases = load_cases()
    started = time.perf_counter()
    run(cases[0])  # warm up: loads the language model and both VADER lexicons
    load_seconds = time.perf_counter() - started
    score, confusion, misses = evaluate(cases)

    print(f"{len(cases)} cases; first call (model + lexicon load) {load_seconds:.2f}s")
    print(f"\n{'field':<10}" + "".join(f"{g:>14}" for g in GROUPS))
    for field in FIELDS:
        row = f"{field:<10}"
        for group in GROUPS:
            hit, total = score.get((group, field), (0, 0))
            row += f"{hit / total:>8.3f} {hit:>2}/{total:<3}" if total else f"{'-':>14}"
        print(row)
    for field in ("tone", "complaint", "priority"):
        print_confusion(field, confusion[field])

    rounds, texts = 5, [c["text"] for c in cases]
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            classify(text)
    elapsed = time.perf_counter() - started
    print(f"\nspeed: {rounds * len(texts) / elapsed:,.0f} classifications/second (warm, single thread)")

    if args.misses:
        print("\nmisses:")
        for field, case, got in misses:
            print(f"  {field}: want {case[field]!s:<8} got {getattr(got, field)!s:<8} "
                  f"({got.score:+.2f}) {case['text']}  {list(got.reasons)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
