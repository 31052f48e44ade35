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


def stored(m: dict) -> dict[str, np.ndarray]:
    """The arrays kept of a trained model ({"idf", "weights", "bias"} over every hashed column): its
    kept columns, their idf, their weight rows then the dense features' rows, the bias. A model
    without "idf" (bot.triage.transfer's) keeps its weights and bias as they are."""
    bias = np.asarray(m["bias"], dtype=np.float64)
    if "idf" not in m:
        return {"weights": np.asarray(m["weights"], dtype=np.float64), "bias": bias}
    idf = np.asarray(m["idf"])
    kept = np.flatnonzero(idf > 0)
    weights = np.concatenate([m["weights"][kept], m["weights"][len(idf):]]).astype(np.float32)
    return {"columns": kept.astype(np.int32), "idf": idf[kept].astype(np.float32), "weights": weights, "bias": bias}


def from_stored(arrays: dict[str, np.ndarray]) -> Model:
    """The runtime model of `stored(...)` arrays."""
    return Model(arrays["columns"].astype(np.int64), arrays["idf"], arrays["weights"], arrays["bias"])


def save(path: Path, models: dict[str, dict]) -> None:
    """Write `models` as an .npz whose bytes depend only on the arrays (fixed zip timestamps)."""
    arrays = {f"{name}.{key}": array for name, m in models.items() for key, array in stored(m).items()}
    with zipfile.ZipFile(path, "w") as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[key], allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def load(path: Path = ARTEFACT) -> dict[str, Model]:
    """Every n-gram model in the artefact at `path`."""
    with np.load(path, allow_pickle=False) as data:
        return {name: from_stored({key: data[f"{name}.{key}"] for key in ("columns", "idf", "weights", "bias")})
                for name in NAMES}


def get(name: str) -> Model:
    """The shipped model `name` ("tone_en", "tone_es", "complaint_en"), loaded once per process."""
    with _lock:
        if not _models:
            _models.update(load())
        return _models[name]
