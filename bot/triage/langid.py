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

_LENGTHS = np.arange(2, MAX_GRAM + 1, dtype=np.uint64)
_MASKS = (np.uint64(1) << (np.uint64(8) * _LENGTHS)) - np.uint64(1)

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
        # One unaligned big-endian view: element e is the 8 bytes ending at byte e (zeros before the
        # text), so the gram of length L ending there is its low 8·L bits. Every length is looked
        # up at once, and the longest hit of each byte wins.
        window = np.ndarray((n,), dtype=">u8", buffer=bytes(7) + data, strides=(1,)).astype(np.uint64)
        grams = (window[:, None] & _MASKS) << np.uint64(3) | _LENGTHS
        # Looked up in sorted order: the binary searches then walk the 100k keys in one direction,
        # a third faster than in text order (fewer cache misses).
        flat = grams.ravel()
        order = np.argsort(flat)
        found = np.searchsorted(self.keys, flat[order]).clip(max=len(self.keys) - 1)
        at = np.empty_like(found)
        at[order] = found
        at = at.reshape(grams.shape)
        # A gram reaching into the zeros before the text starts with a NUL byte, which no feature
        # does (scripts/build_langid.py checks), so it never hits.
        hit = self.keys[at] == grams
        longest = MAX_GRAM - 2 - hit[:, ::-1].argmax(axis=1)
        rows = np.flatnonzero(hit.any(axis=1))
        return at[rows, longest[rows]]

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


def probabilities(text: str) -> np.ndarray:
    """The probability of each language of `LANGUAGES` (in that order) for `text`."""
    return _get().probabilities(text)


def rank(text: str) -> list[tuple[str, float]]:
    """Every language of `LANGUAGES` with its probability for `text`, most likely first."""
    p = _get().probabilities(text)
    return sorted(zip(LANGUAGES, p.tolist(), strict=True), key=lambda kv: kv[1], reverse=True)
