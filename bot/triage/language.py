"""Which language a customer wrote in.

bot.triage.langid (py3langid's model pruned to the languages our customers write in: a few MB
instead of py3langid's 80) does the heavy lifting; on short social texts it is unreliable ("hola"
comes out English), so its probabilities are weighted by a prior (English and Spanish first) and
combined with the platform's own guess (X's tweet `lang`) and with cheap evidence that is hard to
fake: Spanish and English function words, and Spanish-only characters (ñ ¿ ¡ and accented vowels).
A text with no letters left after removing links, mentions and emoji is "und".
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from bot.triage import langid

CANDIDATES = langid.LANGUAGES
# How much likelier a language is a priori than the other candidates: Parley's customers write in
# English and Spanish first, then the big European languages. On a five-word post the identifier is
# torn between look-alikes (es / pt / gl, en / nl / id); the prior settles those, while a longer
# text in any candidate language outweighs it easily.
PRIOR = {"en": 4.0, "es": 4.0, "pt": 2.0, "fr": 2.0, "de": 2.0, "it": 2.0}
# The identifier's cost grows with the length; a long post's opening says its language as well.
LANGID_CHARS = 600
_PRIOR = np.array([PRIOR.get(lang, 1.0) for lang in CANDIDATES])
_EN, _ES = CANDIDATES.index("en"), CANDIDATES.index("es")

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|ly|me|io|co|example)(?:/\S*)?", re.I)
_HANDLE = re.compile(r"[@#]\w+")
_WORD = re.compile(r"[^\W\d_]+")

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ES_WORDS = _words(
    """el la los las un una unos unas de del que y en es por para con no mi mis su sus me te se le lo
    al pero muy ya como cuando donde dónde qué cómo cuándo cuánto cuanto está están estoy esta este esto
    son fue hay tengo tiene tienen hace hacen puedo pueden nada nadie nunca más también sin sobre hasta
    desde otra otro vez hola gracias porque pues ni tampoco ayer hoy mañana llegó llega pedido quiero
    les nos sí así todo toda bien mal aquí aqui ahora"""
)
EN_WORDS = _words(
    """the a an and or of to in is are was were be been my your our their it this that these those for
    with on at from not no but have has had do does did don't can't cannot can could would should will
    i you we they he she me us them what when where why how who hi hey thanks thank please just still
    again never any anyone some got get out up about so very really"""
)
_ES_CHARS = set("ñ¿¡áéíóú")

def strip_noise(text: str) -> str:
    """The text without links, @mentions and #hashtags (they carry no language)."""
    return _HANDLE.sub(" ", _URL.sub(" ", text))


def _fold(word: str) -> str:
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def detect_language(text: str, lang_hint: str | None = None) -> str:
    """The ISO 639-1 code of `text`, or "und" when there is nothing to judge.

    The hint is a platform's guess (e.g. a tweet's `lang`); it wins on texts too short to judge and
    is otherwise one vote among the detector and the function-word evidence.
    """
    hint = (lang_hint or "").strip().lower()[:2] or None
    if hint is not None and not hint.isalpha():
        hint = None
    clean = strip_noise(text)
    words = [w.lower() for w in _WORD.findall(clean)]
    letters = sum(len(w) for w in words)
    if letters == 0:
        return hint if hint in CANDIDATES else "und"

    # Function words: a clear majority for one language is strong evidence even in five words.
    es_hits = sum(1 for w in words if w in ES_WORDS or _fold(w) in ES_WORDS)
    en_hits = sum(1 for w in words if w in EN_WORDS)
    es_chars = sum(1 for c in clean.lower() if c in _ES_CHARS)
    bonus = {"es": 0.25 * es_hits + 0.15 * min(es_chars, 3), "en": 0.25 * en_hits}
    # Weighted so that a short text follows the platform unless the words clearly disagree.
    hint_bonus = (0.6 if letters >= 12 else 1.5) if hint in CANDIDATES else 0.0
    settled = _settled(bonus, hint, hint_bonus)
    if settled is not None:
        return settled

    scores = langid.probabilities(clean[:LANGID_CHARS]) * _PRIOR
    scores /= scores.sum()
    scores[_ES] += bonus["es"]
    scores[_EN] += bonus["en"]
    if hint in CANDIDATES:
        scores[CANDIDATES.index(hint)] += hint_bonus
    best = int(scores.argmax())
    if hint is None and ((letters < 4 and es_hits + en_hits == 0) or scores[best] / scores.sum() < 0.4):
        return "und"
    return CANDIDATES[best]


def _settled(bonus: dict[str, float], hint: str | None, hint_bonus: float) -> str | None:
    """The language when the words and the hint decide it whatever the identifier says, else None.

    The identifier's scores are probabilities (each within [0, 1], summing to 1) to which
    `detect_language` adds these bonuses, so a language whose bonus leads every other's by more than
    1 wins in any case, and is not "und" when it holds 40 % of the total even with a score of 0.
    Most texts of a sentence or more settle here and skip the identifier, a third of the time of
    a classification; the answer is the same.
    """
    total = dict(bonus)
    if hint in CANDIDATES:
        total[hint] = total.get(hint, 0.0) + hint_bonus
    lead = max(total, key=total.__getitem__)
    runner_up = max([v for k, v in total.items() if k != lead] + [0.0])  # 0.0: languages with no bonus
    if total[lead] - runner_up <= 1.0 + 1e-9:
        return None
    if hint is None and total[lead] / (1.0 + sum(total.values())) < 0.4 + 1e-9:
        return None
    return lead
