"""The 1-5 satisfaction scale (CSAT): the question Parley asks, the answers it offers as buttons, and
whether a customer's message is an answer. Pure: text in, a score or None out.

An answer is a tapped button (its payload, exact) or a message that is only a rating: a digit 1-5
("4", "4/5", "4 stars", "4 ⭐"), one to five stars ("⭐⭐⭐"), or one face of the scale below. Anything
else ("4 days and still no refund", "thanks!") is not an answer: a person must read it.
"""

from __future__ import annotations

import re
import unicodedata

SCALE_MIN, SCALE_MAX = 1, 5
# One face per score, also the buttons' titles ("5 😍"): the title is what the customer's message
# says when the network delivers only the text (a polled Messenger conversation).
FACES = ("😞", "🙁", "😐", "🙂", "😍")
PAYLOAD_PREFIX = "CSAT:"
QUESTION = ("Thanks for getting in touch! How did we do? Please rate our help from 1 (poor) to 5 (great): "
            "just reply with the number.")
# (title, payload) per score: Messenger titles are cut after 20 characters and payloads hold up to 1000
# (https://developers.facebook.com/docs/messenger-platform/reference/buttons/quick-replies).
CHOICES: tuple[tuple[str, str], ...] = tuple(
    (f"{n} {face}", f"{PAYLOAD_PREFIX}{n}") for n, face in zip(range(SCALE_MIN, SCALE_MAX + 1), FACES, strict=True))

_STARS = frozenset("⭐★☆🌟")
_DIGIT = re.compile(r"^([1-5])(?:\s*(?:/|out of|de|sur)\s*5)?(?:\s*(?:stars?|estrellas?|étoiles?|pts?|points?))?$",
                    re.IGNORECASE)


def from_payload(payload: str | None) -> int | None:
    """The score of a tapped button ("CSAT:4" -> 4); None for any other payload."""
    if not payload or not payload.startswith(PAYLOAD_PREFIX):
        return None
    tail = payload[len(PAYLOAD_PREFIX):]
    return int(tail) if tail.isdigit() and SCALE_MIN <= int(tail) <= SCALE_MAX else None


def from_text(text: str) -> int | None:
    """The score a message that is only a rating gives; None for anything else (see the module doc)."""
    # Variation selectors and joiners ride along with emoji ("⭐️"); they carry no meaning here.
    cleaned = "".join(ch for ch in text.strip() if unicodedata.category(ch) not in ("Mn", "Cf"))
    stars = sum(ch in _STARS for ch in cleaned)
    faces = [FACES.index(ch) + 1 for ch in cleaned if ch in FACES]
    rest = "".join(ch for ch in cleaned if ch not in _STARS and ch not in FACES).strip().rstrip("!.")
    if rest:
        match = _DIGIT.match(rest.strip())
        return int(match.group(1)) if match else None
    if stars and not faces:
        return stars if stars <= SCALE_MAX else None
    if len(faces) == 1 and not stars:
        return faces[0]
    return None


def score_of(text: str, payload: str | None) -> int | None:
    """The score of a customer's message: its button payload first, else its text."""
    by_button = from_payload(payload)
    return by_button if by_button is not None else from_text(text)
