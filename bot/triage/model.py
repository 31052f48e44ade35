"""The trained models (scripts/train_triage.py): tone in English and Spanish, complaint in English.

`models.npz` beside this file holds, per model, the idf of every hashed feature column and the
logistic-regression weights and bias; it is read once per process, on first use, and needs only
numpy. A model's input is bot.triage.features.count(columns(text)) plus `dense_features` of VADER's
score.
"""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.triage.features import Vocabulary

ARTEFACT = Path(__file__).with_name("models.npz")
NAMES = ("tone_en", "tone_es", "complaint_en")

_lock = threading.Lock()
_models: dict[str, Model] = {}


def dense_features(compound: float) -> list[float]:
    """VADER's compound score and whether it passes its usual ±0.05 cut-offs: a lexicon prior that
    the n-grams of a few thousand tweets cannot learn on their own."""
    return [compound, float(compound >= 0.05), float(compound <= -0.05)]


@dataclass(frozen=True)
class Model:
    """One multinomial logistic regression over hashed TF-IDF n-grams and the dense features."""

    vocab: Vocabulary
    weights: np.ndarray  # rows: hashed columns, then the dense features; one column per class
    bias: np.ndarray

    def probabilities(self, features: tuple[np.ndarray, np.ndarray], compound: float) -> np.ndarray:
        """Class probabilities for a text given its `count(columns())` and its VADER compound score."""
        cols, values = self.vocab.vector(features)
        dense = np.asarray(dense_features(compound))
        z = self.bias + values @ self.weights[cols] + dense @ self.weights[-len(dense):]
        z = np.exp(z - z.max())
        return z / z.sum()


def save(path: Path, models: dict[str, dict]) -> None:
    """Write `models` as an .npz whose bytes depend only on the arrays (fixed zip timestamps)."""
    arrays: dict[str, np.ndarray] = {}
    for name, m in models.items():
        arrays[f"{name}.idf"] = np.asarray(m["idf"], dtype=np.float32)
        arrays[f"{name}.weights"] = np.asarray(m["weights"], dtype=np.float32)
        arrays[f"{name}.bias"] = np.asarray(m["bias"], dtype=np.float64)
    with zipfile.ZipFile(path, "w") as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[key], allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def load(path: Path = ARTEFACT) -> dict[str, Model]:
    """Every model in the artefact at `path`."""
    with np.load(path, allow_pickle=False) as data:
        return {name: Model(Vocabulary(data[f"{name}.idf"]), data[f"{name}.weights"], data[f"{name}.bias"])
                for name in NAMES}


def get(name: str) -> Model:
    """The shipped model `name` ("tone_en", "tone_es", "complaint_en"), loaded once per process."""
    with _lock:
        if not _models:
            _models.update(load())
        return _models[name]
