"""The trained models (scripts/train_triage.py): tone in English and Spanish, complaint in English.

`models.npz` beside this file holds, per model, the hashed feature columns it kept (those seen in
at least two training texts), their idf, and the logistic-regression weights and bias; it is read
once per process, on first use, and needs only numpy. Only the kept columns are stored (a few tens
of thousands of the 262 144): about 1 MB in memory per model instead of 4. A model's input is
bot.triage.features.count(columns(text)) plus `dense_features` of VADER's score.
"""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.triage.features import BITS

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

    columns: np.ndarray  # the hashed columns the model kept, sorted
    idf: np.ndarray  # their idf
    weights: np.ndarray  # rows: the kept columns, then the dense features; one column per class
    bias: np.ndarray
    # Hashed column -> row of `weights` (-1: not kept), so that a text's columns find their rows
    # with one gather instead of a binary search per model; int16 (0.5 MB) while the rows fit.
    row_of: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        dtype = np.int16 if len(self.columns) < 2**15 else np.int32
        row_of = np.full(1 << BITS, -1, dtype=dtype)
        row_of[self.columns] = np.arange(len(self.columns), dtype=dtype)
        object.__setattr__(self, "row_of", row_of)

    def vector(self, counted: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Rows of `weights` and L2-normalised TF-IDF values of `count(columns(text))`, as
        bot.triage.features.Vocabulary.vector computes them; columns the model did not keep drop out."""
        cols, tf = counted
        rows = self.row_of[cols]
        kept = rows >= 0
        rows = rows[kept].astype(np.intp)
        values = (1.0 + np.log(tf[kept])) * self.idf[rows]
        norm = float(np.sqrt(values @ values)) or 1.0
        return rows, values / norm

    def probabilities(self, features: tuple[np.ndarray, np.ndarray], compound: float) -> np.ndarray:
        """Class probabilities for a text given its `count(columns())` and its VADER compound score."""
        rows, values = self.vector(features)
        dense = np.asarray(dense_features(compound))
        z = self.bias + values @ self.weights[rows] + dense @ self.weights[-len(dense):]
        z = np.exp(z - z.max())
        return z / z.sum()


def save(path: Path, models: dict[str, dict]) -> None:
    """Write `models` as an .npz whose bytes depend only on the arrays (fixed zip timestamps)."""
    arrays: dict[str, np.ndarray] = {}
    for name, m in models.items():
        idf = np.asarray(m["idf"])
        kept = np.flatnonzero(idf > 0)
        arrays[f"{name}.columns"] = kept.astype(np.int32)
        arrays[f"{name}.idf"] = idf[kept].astype(np.float32)
        arrays[f"{name}.weights"] = np.concatenate([m["weights"][kept], m["weights"][len(idf):]]).astype(np.float32)
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
        return {name: Model(data[f"{name}.columns"].astype(np.int64), data[f"{name}.idf"], data[f"{name}.weights"],
                            data[f"{name}.bias"]) for name in NAMES}


def get(name: str) -> Model:
    """The shipped model `name` ("tone_en", "tone_es", "complaint_en"), loaded once per process."""
    with _lock:
        if not _models:
            _models.update(load())
        return _models[name]
