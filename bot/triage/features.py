"""Text to features, shared by the training script and the runtime models, so both see the same thing.

A text becomes a bag of string features: word unigrams and bigrams (with a `!` mark on words in
the scope of a negation, "not good" -> "!good"), and character 2- to 5-grams inside each word.
Before that it is normalised the way tweets need: lower case, accents folded (customers often type
without them), @mentions, links and numbers collapsed to one token each, and letters repeated
more than twice cut to two ("sooooo" -> "soo"). Emoji and punctuation marks are words of their own.

`Vocabulary` hashes features to columns and weights them by TF-IDF (sublinear tf, smooth idf,
L2-normalised), the scheme of scikit-learn's TfidfVectorizer, done here so that the runtime needs
only numpy.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable

import numpy as np

_FOLD = str.maketrans("áéíóúàèìòùäëïöüâêîôûñç", "aeiouaeiouaeiouaeiounc")
_URL = re.compile(r"https?://\S+|www\.\S+")
_USER = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_REPEAT = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(r"[a-z_#'\u00df-\u024f]+|[^\s\w]")
NEGATORS = frozenset({"not", "no", "never", "nor", "cannot", "nothing", "nobody", "none", "without", "nunca",
                      "jamas", "ni", "nada", "nadie", "sin", "tampoco"})
# A negation's scope ends at punctuation, as in the usual sentiment-analysis convention.
_SCOPE_END = frozenset(".,;:!?")
CHAR_NGRAMS = (2, 3, 4, 5)
BITS = 18  # 262 144 columns: few collisions for the ~100k features of a few thousand tweets


def normalize(text: str) -> str:
    """Lower case, accents folded, mentions/links/numbers collapsed, long letter runs cut to two."""
    text = text.lower().replace("\u2019", "'").translate(_FOLD)
    text = _USER.sub(" @user ", _URL.sub(" http ", text))
    return _REPEAT.sub(r"\1\1", _NUMBER.sub(" 0 ", text))


def tokens(text: str) -> list[str]:
    """Words of a normalised text, marked with "!" inside a negation's scope."""
    out: list[str] = []
    negated = False
    for tok in _TOKEN.findall(text):
        if tok in _SCOPE_END:
            negated = False
        out.append("!" + tok if negated and tok[0].isalpha() else tok)
        if tok in NEGATORS or tok.endswith("n't"):
            negated = True
    return out


def features(text: str) -> list[str]:
    """Every feature string of `text`: "w:" words, "b:" word pairs, "c:" character n-grams."""
    words = tokens(normalize(text))
    feats = ["w:" + w for w in words]
    feats += ["b:" + a + " " + b for a, b in zip(words, words[1:], strict=False)]
    for word in words:
        if len(word) < 2 or not word[-1].isalpha():
            continue
        padded = " " + word.lstrip("!") + " "
        size = len(padded)
        for n in CHAR_NGRAMS:
            feats += ["c:" + padded[i:i + n] for i in range(size - n + 1)]
    return feats


class Vocabulary:
    """Feature string -> column by a stable hash (CRC-32), with an idf weight per column.

    Hashing instead of a term dictionary keeps the runtime small: the model is two arrays, with no
    hundred-thousand-entry dict of strings in memory. Columns seen in fewer than `min_df` training
    documents have idf 0, which drops them.
    """

    def __init__(self, idf: np.ndarray) -> None:
        self.idf = idf
        self.mask = len(idf) - 1

    @classmethod
    def fit(cls, docs: Iterable[list[str]], min_df: int = 2, bits: int = BITS) -> Vocabulary:
        """idf per column over `docs` (smooth idf, as scikit-learn computes it)."""
        mask = (1 << bits) - 1
        df: Counter[int] = Counter()
        n = 0
        for feats in docs:
            df.update({zlib.crc32(f.encode()) & mask for f in feats})
            n += 1
        idf = np.zeros(1 << bits)
        for col, count in sorted(df.items()):
            if count >= min_df:
                idf[col] = math.log((1 + n) / (1 + count)) + 1
        return cls(idf)

    def vector(self, feats: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and L2-normalised TF-IDF values; columns unseen in training are dropped."""
        mask = self.mask
        counts = Counter(zlib.crc32(f.encode()) & mask for f in feats)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[cols]
        keep = values > 0
        cols, values = cols[keep], values[keep]
        norm = float(np.sqrt(values @ values)) or 1.0
        return cols, values / norm
