"""Spanish complaints from what transfers: a tiny logistic regression over six explainable signals.

There is no public Spanish complaint data, and the English complaint model's n-grams do not carry
over. What does: the Spanish tone model's reading, VADER's score, the keyword rules' problem cues,
whether the customer asks something (most questions to a brand are requests, not complaints) and
how many markers of a problem that persists the text has ("otra vez", "sigo", "desde", "llevo",
"días", "nadie"...). `scripts/train_triage.py` fits the six weights on the train half of the
project's own labelled Spanish tweets (data/triage/complaints_es_own.csv), choosing C by
cross-validation there; bench/triage_accuracy.py reports the other half, never trained on.

Run only for Spanish texts the rules did not already call a complaint, so its reason on the card
reads "complaint model 83%" like the English model's.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from bot.triage.model import ARTEFACT
from bot.triage.rules import Findings, fold

NAME = "complaint_es"
# Written from how Spanish speakers say a problem drags on, on the folded text (no accents).
MARKERS = re.compile(
    r"\b(otra vez|de nuevo|todavia|aun|sigue|siguen|sigo|seguimos|llevo|llevamos|desde|ya van|tercera vez"
    r"|hace \w+ (?:dias|semanas|meses|horas)|horas|dias|semanas|nadie|ningun|ninguna|ni un|ni una|sin)\b"
)
MAX_MARKERS = 3  # a long rant counts like a short one: the fourth marker adds nothing

_lock = threading.Lock()
_weights: list[tuple[np.ndarray, np.ndarray]] = []


def features(tone_probabilities: np.ndarray, compound: float, found: Findings, text: str) -> list[float]:
    """The six inputs: P(negative), P(positive) from the Spanish tone model, VADER's compound score,
    a problem cue, a question, the number of persistence markers (at most 3)."""
    markers = min(len(MARKERS.findall(fold(text))), MAX_MARKERS)
    question = "?" in text or "\u00bf" in text
    return [float(tone_probabilities[0]), float(tone_probabilities[2]), compound,
            float(bool(found.complaint_cues)), float(question), float(markers)]


def probability(x: list[float]) -> float:
    """P(complaint) for `features(...)`, with the shipped weights."""
    with _lock:
        if not _weights:
            with np.load(ARTEFACT, allow_pickle=False) as data:
                _weights.append((data[f"{NAME}.weights"], data[f"{NAME}.bias"]))
        weights, bias = _weights[0]
    z = bias + np.asarray(x) @ weights
    z = np.exp(z - z.max())
    return float(z[1] / z.sum())
