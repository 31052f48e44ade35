"""The labelled public data that trains and measures bot.triage (vendored in data/triage/, see its README).

Shared by scripts/train_triage.py and bench/triage_accuracy.py so both use the same splits: tone
has its published train/val split; complaints get a fixed-seed stratified hold-out of 20 % that the
training script never sees; the project's own labelled Spanish complaints (there is no public
Spanish complaint set) a fixed-seed stratified hold-out of half.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "triage"
TONES = ("negative", "neutral", "positive")  # label 0, 1, 2 in the sentiment files
HOLDOUT_SEED = 2019
HOLDOUT_SHARE = 0.2
OWN_ES_HOLDOUT_SHARE = 0.5  # few cases: half of them measure, never train
# The XLM-T files keep some characters as literal "\u2019" escapes.
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape(line: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line).strip()


def sentiment(lang: str, split: str) -> tuple[list[str], list[int]]:
    """Texts and labels (0 negative, 1 neutral, 2 positive) of the `split` ("train"/"val") of `lang`."""
    folder = DATA / "sentiment" / lang
    # Split on "\n" only: str.splitlines would also split inside texts at U+2028 and friends.
    texts = [_unescape(t) for t in (folder / f"{split}_text.txt").read_text("utf-8").removesuffix("\n").split("\n")]
    labels = [int(x) for x in (folder / f"{split}_labels.txt").read_text("utf-8").split()]
    if len(texts) != len(labels):
        raise ValueError(f"{folder}: {len(texts)} texts for {len(labels)} labels")
    return texts, labels


Split = tuple[tuple[list[str], list[int]], tuple[list[str], list[int]]]


def complaints() -> Split:
    """((train texts, labels), (held-out texts, labels)): a stratified split with a fixed seed."""
    return _split(DATA / "complaints_train.csv", HOLDOUT_SHARE)


def spanish_complaints() -> Split:
    """The project's own Spanish customer tweets to brands (complaints_es_own.csv), split the same way."""
    return _split(DATA / "complaints_es_own.csv", OWN_ES_HOLDOUT_SHARE)


def _split(path: Path, share: float) -> Split:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(row["text"], int(row["label"])) for row in csv.DictReader(f)]
    rng = random.Random(HOLDOUT_SEED)
    train: list[tuple[str, int]] = []
    held: list[tuple[str, int]] = []
    for label in (0, 1):
        group = [r for r in rows if r[1] == label]
        rng.shuffle(group)
        cut = round(len(group) * share)
        held += group[:cut]
        train += group[cut:]
    return ([t for t, _ in train], [y for _, y in train]), ([t for t, _ in held], [y for _, y in held])
