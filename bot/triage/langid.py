"""A small naive Bayes language identifier over byte n-grams: py3langid's model, pruned.

py3langid (BSD-3-Clause, LICENSE-py3langid.txt beside this file) costs about 80 MB on first use;
scripts/build_langid.py keeps its features (byte 2- to 6-grams) for the languages in `LANGUAGES`
only, as sorted integer keys and one-byte log-probabilities: about 3 MB in memory. Scoring follows
py3langid: at every byte, the longest feature ending there counts; scores are
log(1 + count) · log P(feature | language) + log P(language), turned into probabilities at a
temperature of sqrt(text length in bytes).
"""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

import numpy as np

ARTEFACT = Path(__file__).with_name("langid.npz")
MAX_GRAM = 6
# The languages a brand's customers plausibly write in on social networks. A text in any other
# language comes out as the closest of these, which is still "not English/Spanish" for triage;
# fewer Latin-script look-alikes also means fewer absurd answers on five-word posts.
LANGUAGES = (
    "en", "es", "pt", "fr", "de", "it", "nl", "ca", "gl", "eu", "ro", "pl", "cs", "sv", "da", "no", "fi",
    "hu", "tr", "id", "vi", "ru", "uk", "bg", "el", "ar", "fa", "he", "hi", "bn", "ur", "th", "ja", "ko", "zh",
)

_lock = threading.Lock()
_model: _Model | None = None


def feature_key(gram: bytes) -> int:
    """A byte n-gram (n ≤ 6) as one integer: its bytes big-endian, then 3 bits of length."""
    return int.from_bytes(gram, "big") << 3 | len(gram)


class _Model:
    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.keys = data["keys"]
            self.ptc = data["ptc"]
            self.low, self.scale = (float(x) for x in data["quant"])
            self.pc = data["pc"].astype(np.float64)

    def features(self, data: bytes) -> np.ndarray:
        """The feature number counted at each byte of `data` (the longest one ending there)."""
        n = len(data)
        padded = np.frombuffer(data + bytes(MAX_GRAM), dtype=np.uint8).astype(np.uint64)
        # grams[s, j]: the bytes s .. s+j+1 (length j+2) as one key; all lengths looked up at once.
        value = padded[:n].copy()
        grams = np.empty((n, MAX_GRAM - 1), dtype=np.uint64)
        for j in range(MAX_GRAM - 1):
            value = value << np.uint64(8) | padded[j + 1:j + 1 + n]
            grams[:, j] = value << np.uint64(3) | np.uint64(j + 2)
        end = np.arange(n)[:, None] + np.arange(1, MAX_GRAM)  # the last byte of each gram
        at = np.searchsorted(self.keys, grams.ravel()).clip(max=len(self.keys) - 1)
        hit = (self.keys[at] == grams.ravel()) & (end.ravel() < n)
        ends, found = end.ravel()[hit], at[hit]
        if ends.size == 0:
            return found
        # Keep the longest gram per end byte: sort by (end, length), take the last of each end.
        order = np.argsort(ends * MAX_GRAM + (np.flatnonzero(hit) % (MAX_GRAM - 1)), kind="stable")
        ends, found = ends[order], found[order]
        return found[np.append(ends[1:] != ends[:-1], True)]

    def probabilities(self, text: str) -> np.ndarray:
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")
        feats = self.features(data)
        if feats.size == 0:
            return np.full(len(LANGUAGES), 1 / len(LANGUAGES))
        idx, counts = np.unique(feats, return_counts=True)
        weights = np.log1p(counts.astype(np.float64))
        scores = (weights @ self.ptc[idx].astype(np.float64)) * self.scale + weights.sum() * self.low + self.pc
        scores /= np.sqrt(len(data) or 1)
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


def _get() -> _Model:
    global _model
    with _lock:
        if _model is None:
            _model = _Model(ARTEFACT)
        return _model


def rank(text: str) -> list[tuple[str, float]]:
    """Every language of `LANGUAGES` with its probability for `text`, most likely first."""
    p = _get().probabilities(text)
    return sorted(zip(LANGUAGES, p.tolist(), strict=True), key=lambda kv: kv[1], reverse=True)
