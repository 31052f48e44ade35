"""Tone: a compound score in [-1, 1] from VADER, for English and (through an adapter) Spanish.

English goes to VADER with a small customer-service lexicon (`en_domain.txt`) over its own: words
that are requests rather than feelings here ("help", "please", "cancel") are neutral, and problem
phrases ("still waiting", "keeps crashing", "never again") are negative. Spanish goes through the
same VADER engine with our own lexicon (`es_lexicon.txt`) merged over VADER's English one, so emoji
(which VADER turns into English descriptions) and English loan words still count.

Both files are in VADER's format (token, mean valence, std, ratings); VADER reads only the first
two columns, and ours carry placeholders in the last two. VADER's negation and booster lists are
English, so the Spanish adapter rewrites negators ("no", "nunca", "ni", "tampoco", "nada", "sin")
and intensifiers ("muy", "súper", "tan", ...) to the English words VADER knows, and "pero" to "but".
Multi-word entries ("no funciona", "nadie responde") are joined into single tokens first, because
VADER splits on whitespace. Every Spanish entry also gets its unaccented spelling, since customers
often type without accents.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

LEXICONS = {"en": Path(__file__).with_name("en_domain.txt"), "es": Path(__file__).with_name("es_lexicon.txt")}
# VADER reads emoji as their English names ("pouting face"), most of which it cannot score: these are
# the ones customers use to say how they feel, given a word VADER knows.
EMOJI_WORDS = {"👍": "good", "👎": "bad", "😡": "angry", "😠": "angry", "🤬": "furious", "😤": "annoyed",
               "🙄": "ugh", "😒": "annoyed", "💩": "crap", "👌": "good", "🙃": "ugh", "🤡": "stupid",
               "😭": "sad", "😢": "sad", "💔": "heartbroken", "🙏": "thanks", "💯": "perfect"}
THRESHOLD = 0.05  # VADER's usual cut-off on the compound score

_ES_NEGATORS = {"no": "not", "nunca": "never", "jamás": "never", "jamas": "never", "tampoco": "not",
                "ni": "nor", "nada": "not", "sin": "without"}
_ES_BOOSTERS = {"muy": "very", "súper": "very", "super": "very", "tan": "so", "bastante": "quite",
                "demasiado": "very", "realmente": "really", "totalmente": "totally", "re": "very",
                "completamente": "completely", "sumamente": "extremely", "mega": "very",
                "extremadamente": "extremely", "absolutamente": "absolutely", "tremendamente": "very"}
_ES_REWRITES = {**_ES_NEGATORS, **_ES_BOOSTERS, "pero": "but"}
# English lexicon words that are common Spanish words with another meaning: never scored in Spanish.
_ES_FALSE_FRIENDS = frozenset(
    {"no", "sin", "con", "me", "te", "le", "la", "lo", "dice", "fin", "pie", "red", "solo", "vale", "dado",
     "mas", "pena", "sale", "cara", "ha", "hay", "como", "once", "rata", "ten", "sea", "par", "pan", "bye",
     "ok", "mal"}
)

_lock = threading.Lock()
_analyzers: dict[str, tuple[SentimentIntensityAnalyzer, re.Pattern[str]]] = {}


def fold_accents(text: str) -> str:
    """`text` without combining accents (ñ becomes n too): "pésimo" -> "pesimo"."""
    if text.isascii():
        return text  # nothing to fold, and most texts take this path: it is on every classify
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _build(lang: str) -> tuple[SentimentIntensityAnalyzer, re.Pattern[str]]:
    """VADER with our lexicon for `lang` merged over its English one, and the phrase pattern."""
    analyzer = SentimentIntensityAnalyzer(lexicon_file=str(LEXICONS[lang]))
    ours = dict(analyzer.lexicon)
    analyzer.lexicon = {
        k: v for k, v in SentimentIntensityAnalyzer().lexicon.items()
        if lang != "es" or k not in _ES_FALSE_FRIENDS
    }
    phrases: list[str] = []
    for entry, valence in ours.items():
        for spelling in {entry, fold_accents(entry)}:
            if " " in spelling:
                phrases.append(spelling)
            analyzer.lexicon[spelling.replace(" ", "_")] = valence
    analyzer.emojis.update(EMOJI_WORDS)
    phrases.sort(key=len, reverse=True)  # longest first, so "no ha llegado" beats "no llega"
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)", re.I)
    return analyzer, pattern


def _get(lang: str) -> tuple[SentimentIntensityAnalyzer, re.Pattern[str]]:
    # Built lazily and once: each analyzer reads a lexicon file of several thousand lines.
    with _lock:
        if lang not in _analyzers:
            _analyzers[lang] = _build(lang)
        return _analyzers[lang]


def join_phrases(text: str, phrases: re.Pattern[str]) -> str:
    """Multi-word lexicon entries joined with "_" so that VADER sees them as one token."""
    return phrases.sub(lambda m: m.group(0).replace(" ", "_"), text)


def adapt_spanish(text: str, phrases: re.Pattern[str]) -> str:
    """Spanish text rewritten for VADER: phrases joined, negators/boosters in English words.

    Spanish negation is concordant ("no está nada mal" means "not bad"), so a negator within three
    words after another one is dropped rather than negating a second time. ¡ and ¿ become spaces
    because VADER's punctuation stripping knows only ASCII punctuation.
    """
    text = join_phrases(text.replace("¡", " ").replace("¿", " "), phrases)
    out: list[str] = []
    last_negator = -10
    for token in text.split():
        core = token.strip(".,;:!?\"'()…")
        lower = core.lower()
        if lower in _ES_NEGATORS:
            if len(out) - last_negator <= 3 and lower != "no":
                continue
            last_negator = len(out)
        swap = _ES_REWRITES.get(lower)
        if swap:
            token = token.replace(core, swap.upper() if core.isupper() and len(core) > 1 else swap)
        out.append(token)
    return " ".join(out)


def tone_score(text: str, lang: str) -> float:
    """VADER's compound score for `text` read as `lang` ("es" uses the Spanish adapter)."""
    lang = "es" if lang == "es" else "en"
    analyzer, phrases = _get(lang)
    text = adapt_spanish(text, phrases) if lang == "es" else join_phrases(text, phrases)
    return float(analyzer.polarity_scores(text)["compound"])


def tone_label(score: float) -> str:
    """"positive", "negative" or "neutral" by VADER's usual ±0.05 thresholds."""
    if score >= THRESHOLD:
        return "positive"
    if score <= -THRESHOLD:
        return "negative"
    return "neutral"
