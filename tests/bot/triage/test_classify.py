"""bot.triage: accuracy over the labelled cases, the behaviours staff rely on, and robustness.

Accuracy floors were measured (bench/triage_accuracy.py) and set a little below what the classifier
scores, so a regression fails while one new hard case does not. The "holdout" cases were written
after the rules were tuned and were never tuned against; their floors are lower, and honest.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store.models import Priority, Tone
from bot.triage import Triage, classify, classify_lines, format_followers

CASES = yaml.safe_load((Path(__file__).parents[2] / "data" / "triage_cases.yaml").read_text("utf-8"))["cases"]

# Measured on 226 cases with the trained models: language 0.996, tone 0.827, complaint 0.901,
# priority 0.917; holdout (70, of which 30 Spanish cases written to test the Spanish complaint flag,
# which has no public training data): language 1.0, tone 0.671, complaint 0.729, priority 0.70. (The rules
# alone scored 0.883 / 0.948 / 0.943 on the first 196 cases, which they were written from, but 0.56
# tone and 0.61 complaint macro-F1 on public data; the models trade some of the first for the second.)
FLOORS = {"language": 0.97, "tone": 0.80, "complaint": 0.88, "priority": 0.89}
HOLDOUT_FLOORS = {"language": 0.95, "tone": 0.65, "complaint": 0.70, "priority": 0.65}


def _run(case: dict) -> Triage:
    return classify(case["text"], followers=case.get("followers"), verified=case.get("verified", False),
                    lang_hint=case.get("lang_hint"))


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[dict, Triage]]:
    return [(case, _run(case)) for case in CASES]


def _accuracy(pairs: list[tuple[dict, Triage]], field: str) -> tuple[float, list[str]]:
    graded = [(c, t) for c, t in pairs if field in c]
    misses = [f"{c['text']!r}: want {c[field]}, got {getattr(t, field)}" for c, t in graded
              if c[field] != getattr(t, field)]
    return 1 - len(misses) / len(graded), misses


def test_the_case_set_is_large_and_balanced() -> None:
    languages = [c["language"] for c in CASES]
    assert len(CASES) >= 120
    assert languages.count("en") >= 50 and languages.count("es") >= 50
    for case in CASES:
        assert case["language"] and "tone" in case, case


@pytest.mark.parametrize("field", list(FLOORS))
def test_accuracy_over_all_cases(verdicts, field: str) -> None:
    accuracy, misses = _accuracy(verdicts, field)
    assert accuracy >= FLOORS[field], "\n".join(misses)


@pytest.mark.parametrize("field", list(HOLDOUT_FLOORS))
def test_accuracy_on_cases_never_tuned_against(verdicts, field: str) -> None:
    holdout = [(c, t) for c, t in verdicts if c.get("split") == "holdout"]
    assert len(holdout) >= 40
    accuracy, misses = _accuracy(holdout, field)
    assert accuracy >= HOLDOUT_FLOORS[field], "\n".join(misses)


def test_spanish_tone_is_scored_not_left_neutral(verdicts) -> None:
    spanish = [(c, t) for c, t in verdicts if c["language"] == "es"]
    accuracy, misses = _accuracy(spanish, "tone")
    assert accuracy >= 0.74, "\n".join(misses)  # measured 0.764 on 127 (the lexicon: 0.85 on its 97)
    polar = [t.tone for c, t in spanish if c["tone"] != "neutral"]
    assert polar.count("neutral") <= len(polar) * 0.22  # measured: 19 of 97


@pytest.mark.parametrize("text", ["Pésimo servicio, la app no funciona", "pesimo servicio, la app no funciona",
                                  "Qué asco de atención, son unos estafadores", "el pedido llegó roto 😡"])
def test_spanish_negative_is_negative(text: str) -> None:
    t = classify(text)
    assert (t.language, t.tone, t.complaint) == ("es", "negative", True)
    assert t.score <= -0.05


def test_spanish_praise_is_positive_and_low() -> None:
    t = classify("Muchas gracias, excelente atención, me encanta")
    assert (t.language, t.tone, t.complaint, t.priority) == ("es", "positive", False, "low")
    assert "praise/thanks only" in t.reasons


def test_accents_do_not_change_the_score() -> None:
    assert classify("pésimo servicio, qué decepción").score == classify("pesimo servicio, que decepcion").score


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        ("the service was good", "the service was not good"),
        ("el servicio es bueno", "el servicio no es bueno"),
        ("la entrega fue rápida", "la entrega nunca es rápida"),
    ],
)
def test_negation_flips_tone(positive: str, negative: str) -> None:
    assert classify(positive).tone == "positive"
    assert classify(negative).tone == "negative"


def test_negated_negative_reads_positive_in_spanish() -> None:
    assert classify("no está nada mal, bastante bueno").tone == "positive"


def test_spanish_intensifier_strengthens() -> None:
    assert classify("el servicio es muy malo").score < classify("el servicio es malo").score < 0


def test_spam_is_low_whatever_the_reach() -> None:
    t = classify("Follow back 🔥 earn $$$ with crypto http://bit.ly/x", followers=500_000, verified=True)
    assert t.priority == "low" and not t.complaint
    assert t.reasons[0] == "looks like spam"


def test_plain_question_is_normal_and_not_a_complaint() -> None:
    t = classify("@acme do you ship to Canada?")
    assert (t.complaint, t.priority, t.tone) == (False, "normal", "neutral")


def test_big_account_raises_priority() -> None:
    complaint = "@acme my order never arrived, where is my order?"
    assert classify(complaint).priority == "high"
    big = classify(complaint, followers=250_000)
    assert big.priority == "urgent"
    assert {"complaint", "250k followers", "complaint from a very large account"} <= set(big.reasons)
    question = classify("@acme do you ship to Canada?", followers=12_300)
    assert question.priority == "high" and "12.3k followers" in question.reasons
    verified = classify("@acme do you ship to Canada?", verified=True)
    assert verified.priority == "high" and "verified account" in verified.reasons


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("@acme someone hacked my account", "urgent: hacked account"),
        ("@acme me hackearon la cuenta", "urgent: hacked account"),
        ("@acme the heater caught fire", "urgent: safety"),
        ("@acme mi abogado los va a demandar", "urgent: legal"),
        ("@acme there's an unauthorized charge on my card", "urgent: fraud"),
    ],
)
def test_safety_legal_security_words_are_urgent(text: str, reason: str) -> None:
    t = classify(text)
    assert t.priority == "urgent" and reason in t.reasons and t.complaint


@pytest.mark.parametrize(("text", "keyword"), [("I need a refund", "refund"), ("quiero un reembolso", "refund"),
                                               ("how do I cancel?", "cancel"), ("la pantalla está rota", "broken")])
def test_keywords_raise_and_are_named(text: str, keyword: str) -> None:
    t = classify(text)
    assert t.priority == "high" and f"keyword: {keyword}" in t.reasons


def test_every_raised_or_lowered_priority_says_why(verdicts) -> None:
    for case, t in verdicts:
        if t.priority != "normal":
            assert t.reasons, case["text"]
        if t.complaint and t.priority != "low":
            assert "complaint" in t.reasons, case["text"]


def test_sarcasm_around_a_named_problem_reads_negative() -> None:
    t = classify("Oh wonderful, my package is late again. Love that for me")
    assert t.tone == "negative" and t.complaint and t.score > 0  # score stays VADER's


def test_platform_hint_decides_short_texts() -> None:
    assert classify("gracias!!", lang_hint="es").language == "es"
    assert classify("no funciona", lang_hint="es").tone == "negative"
    assert classify("👍").language == "und" and classify("👍").tone == "positive"
    assert classify("").language == "und"


def test_other_languages_get_a_code_and_unknown_tone() -> None:
    t = classify("Mon colis n'est jamais arrivé, c'est inadmissible et très décevant")
    assert (t.language, t.tone, t.score) == ("fr", "unknown", 0.0)
    assert Tone(t.tone) is Tone.UNKNOWN
    assert "tone not scored for fr" in t.reasons


def test_as_json_shape() -> None:
    data = classify("@acme quiero un reembolso").as_json()
    assert set(data) == {"language", "tone", "complaint", "priority", "reasons", "score"}
    assert isinstance(data["reasons"], list)
    json.dumps(data)


def test_classify_lines_writes_one_json_object_per_non_blank_line() -> None:
    out = io.StringIO()
    count = classify_lines(["@acme la app no funciona\n", "\n", "   \n", "thanks @acme, great help!\r\n"], out)
    lines = out.getvalue().splitlines()
    assert count == 2 and len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["language"], first["tone"], first["complaint"]) == ("es", "negative", True)
    assert (second["language"], second["tone"], second["priority"]) == ("en", "positive", "low")
    assert set(first) == {"text", "language", "tone", "complaint", "priority", "reasons", "score"}
    assert first["text"] == "@acme la app no funciona"
    out = io.StringIO()
    classify_lines(["pésimo, qué decepción"], out)
    assert '"text": "pésimo, qué decepción"' in out.getvalue()  # written as UTF-8, not \\u-escaped


def test_format_followers() -> None:
    assert [format_followers(n) for n in (950, 10_000, 12_345, 250_000, 1_200_000)] == [
        "950 followers", "10k followers", "12.3k followers", "250k followers", "1.2M followers"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=300),
    followers=st.none() | st.integers(min_value=0, max_value=10**9),
    verified=st.booleans(),
    lang_hint=st.none() | st.text(max_size=8),
)
def test_classify_never_crashes_and_returns_valid_values(text, followers, verified, lang_hint) -> None:
    t = classify(text, followers=followers, verified=verified, lang_hint=lang_hint)
    assert t.tone in {x.value for x in Tone}
    assert t.priority in {x.value for x in Priority}
    assert isinstance(t.complaint, bool)
    assert t.language == "und" or (len(t.language) == 2 and t.language.isalpha())
    assert -1.0 <= t.score <= 1.0
    assert all(isinstance(r, str) and r for r in t.reasons)
    json.dumps(t.as_json(), ensure_ascii=False)
