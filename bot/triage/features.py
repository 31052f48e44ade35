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

import itertools
import re
import zlib
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
_PRIME = np.uint64(1_000_003)
_SALT = {n: 0x9E3779B97F4A7C15 + n for n in CHAR_NGRAMS}  # one hash family per n
# What the salt contributes to an n-gram's polynomial hash: salt * PRIME**n modulo 2**64.
_OFFSET = {n: np.uint64(salt * int(_PRIME) ** n % 2**64) for n, salt in _SALT.items()}
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


def columns(text: str, bits: int = BITS) -> np.ndarray:
    """The hashed column of every feature of `text`, repeats included (they are the term counts).

    Words and word pairs are hashed one by one with CRC-32; character n-grams, hundreds per tweet,
    are hashed all at once with numpy: a polynomial hash over the code points of the words, each
    padded with spaces as " word ", keeping only n-grams that do not cross a word boundary.
    """
    mask = (1 << bits) - 1
    words = tokens(normalize(text))
    wordish = ["w:" + w for w in words] + ["b:" + a + " " + b for a, b in itertools.pairwise(words)]
    hashed = [zlib.crc32(f.encode()) & mask for f in wordish]
    padded = "".join(" " + w.lstrip("!") + " " for w in words if len(w) > 1 and w[-1].isalpha())
    if not padded:
        return np.asarray(hashed, dtype=np.int64)
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    space = codes == 32
    # Built up one length at a time: g holds sum(c[i+k] * PRIME**(n-1-k)) for every start i, and
    # `inner` whether positions 1..n-2 hold a space (the n-gram would cross a word boundary).
    g, inner = codes, np.zeros(len(codes), dtype=bool)
    grams = []
    for n in range(2, CHAR_NGRAMS[-1] + 1):
        if len(g) < 2:
            break
        inner = inner[:-1]
        if n > 2:  # an n-gram's inner positions are 1..n-2: a 2-gram has none
            inner = inner | space[n - 2:n - 2 + len(inner)]
        g = g[:-1] * _PRIME + codes[n - 1:]  # wraps modulo 2**64, the same on every machine
        if n in CHAR_NGRAMS:
            # An n-gram inside one padded word has spaces at most at its ends, and is not all spaces.
            keep = ~inner & ~(space[:len(g)] & space[n - 1:])
            grams.append(g[keep] + _OFFSET[n])
    if not grams:
        return np.asarray(hashed, dtype=np.int64)
    h = np.concatenate(grams)
    # MurmurHash3's finaliser: mixes every character into the low bits that pick the column.
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return np.concatenate([np.asarray(hashed, dtype=np.int64), (h & np.uint64(mask)).astype(np.int64)])


def count(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct columns, how often each occurs): the term counts of one text."""
    return np.unique(features, return_counts=True)


class Vocabulary:
    """Feature string -> column by a stable hash (CRC-32), with an idf weight per column.

    Hashing instead of a term dictionary keeps the runtime small: the model is two arrays, with no
    hundred-thousand-entry dict of strings in memory. Columns seen in fewer than `min_df` training
    documents have idf 0, which drops them.
    """

    def __init__(self, idf: np.ndarray) -> None:
        self.idf = idf

    @classmethod
    def fit(cls, docs: Iterable[tuple[np.ndarray, np.ndarray]], min_df: int = 2, bits: int = BITS) -> Vocabulary:
        """idf per column over `docs` (count(columns()) of each text; smooth idf, as scikit-learn has it)."""
        df = np.zeros(1 << bits, dtype=np.int64)
        n = 0
        for cols, _counts in docs:
            df[cols] += 1
            n += 1
        idf = np.where(df >= min_df, np.log((1 + n) / (1 + df)) + 1, 0.0)
        return cls(idf)

    def vector(self, counted: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and L2-normalised TF-IDF values of `count(columns(text))`; columns unseen in
        training are dropped."""
        cols, tf = counted
        values = (1.0 + np.log(tf)) * self.idf[cols]
        keep = values > 0
        cols, values = cols[keep], values[keep]
        norm = float(np.sqrt(values @ values)) or 1.0
        return cols, values / norm
