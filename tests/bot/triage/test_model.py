"""bot.triage.model and scripts/train_triage.py: the shipped artefact loads, verdicts are
deterministic, and training is reproducible (checked on a small subset: the full run takes minutes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.triage import classify, model
from bot.triage.features import BITS, Vocabulary, columns, count, normalize, tokens

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def train_triage():
    """scripts/train_triage.py as a module (it is a script, not part of the package)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("train_triage", ROOT / "scripts" / "train_triage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_artefact_loads_every_model() -> None:
    assert model.ARTEFACT.stat().st_size < 25_000_000
    models = model.load()
    assert set(models) == set(model.NAMES)
    dense = len(model.dense_features(0.0))
    for name, m in models.items():
        classes = 2 if name.startswith("complaint") else 3
        assert m.weights.shape == (len(m.columns) + dense, classes) and m.idf.shape == m.columns.shape
        assert m.bias.shape == (classes,)
        assert len(m.columns) > 10_000 and (m.idf > 0).all()  # trained, not an empty vocabulary
        assert (np.diff(m.columns) > 0).all() and m.columns[-1] < 1 << BITS
        p = m.probabilities(count(columns("@acme thank you so much!")), 0.5)
        assert p.shape == (classes,) and abs(p.sum() - 1) < 1e-6


def test_the_models_read_the_obvious_cases() -> None:
    assert classify("I love this, thank you so much! 😍", lang_hint="en").tone == "positive"
    assert classify("this is the worst service ever, I hate it", lang_hint="en").tone == "negative"
    assert classify("me encanta, muchas gracias 😍", lang_hint="es").tone == "positive"
    assert classify("odio este servicio, es una basura", lang_hint="es").tone == "negative"
    assert classify("@acme my order never arrived and nobody answers, I want my money back").complaint
    assert not classify("@acme do you ship to Canada?").complaint


def test_classify_is_deterministic() -> None:
    texts = ["@acme the app keeps crashing 😡", "gracias por todo!", "Mein Paket ist nicht angekommen", ""]
    assert [classify(t) for t in texts] == [classify(t) for t in texts]
    assert np.array_equal(columns(texts[0]), columns(texts[0]))


def test_other_languages_are_detected_and_tone_unknown() -> None:
    for text in ("Mon colis n'est jamais arrivé, c'est inadmissible", "Mein Paket ist immer noch nicht angekommen"):
        t = classify(text)
        assert t.language in {"fr", "de"} and t.tone == "unknown" and t.score == 0.0


def test_features_normalise_tweets_and_mark_negation() -> None:
    assert normalize("Sooooo GOOD @Acme http://x.co 123") == "soo good  @user   http   0 "
    assert tokens("not good, fine") == ["not", "!good", ",", "fine"]
    assert tokens("no me gusta") == ["no", "!me", "!gusta"]
    assert columns("").size == 0


def test_vocabulary_weights_by_tf_idf() -> None:
    docs = [count(columns("good good service")), count(columns("bad service"))]
    vocab = Vocabulary.fit(docs, min_df=1)
    cols, values = vocab.vector(count(columns("good service")))
    assert len(cols) == len(values) > 0 and abs(float(values @ values) - 1) < 1e-9


def test_training_is_reproducible(train_triage, tmp_path: Path) -> None:
    texts = ["I love it", "great service thanks", "this is awful", "worst day ever", "ok see you", "it is tuesday"] * 5
    labels = [2, 2, 0, 0, 1, 1] * 5
    first = train_triage.train(texts, labels, "en", 3, report=False)
    second = train_triage.train(texts, labels, "en", 3, report=False)
    assert first["c"] == second["c"]
    assert np.array_equal(first["weights"], second["weights"]) and np.array_equal(first["bias"], second["bias"])
    train_triage.save(tmp_path / "a.npz", {name: first for name in model.NAMES})
    train_triage.save(tmp_path / "b.npz", {name: second for name in model.NAMES})
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = model.load(tmp_path / "a.npz")["tone_en"]
    assert loaded.probabilities(count(columns("I love it")), 0.6).argmax() == 2


def test_the_complaint_hold_out_is_never_trained_on() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("triage_data", ROOT / "scripts" / "triage_data.py")
    triage_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(triage_data)

    (train_texts, _), (held_texts, held_labels) = triage_data.complaints()
    assert not set(train_texts) & set(held_texts)
    assert len(held_texts) == 490 and sum(held_labels) == 119


def test_the_stored_columns_give_the_training_vectors() -> None:
    """Storing only the kept columns changes nothing: the compact model sees what training saw."""
    docs = [count(columns(t)) for t in ("good service", "bad service", "good food", "service was good")]
    vocab = Vocabulary.fit(docs, min_df=2)
    kept = np.flatnonzero(vocab.idf > 0)
    m = model.Model(kept, vocab.idf[kept], np.zeros((len(kept) + 3, 3)), np.zeros(3))
    full_cols, full_values = vocab.vector(count(columns("good good service, new")))
    rows, values = m.vector(count(columns("good good service, new")))
    assert np.array_equal(kept[rows], full_cols) and np.allclose(values, full_values)


def test_the_own_spanish_hold_out_is_never_trained_on() -> None:
    """The project's own Spanish complaints: enough of them, about 40 % complaints, half held out."""
    spec = importlib.util.spec_from_file_location("triage_data", ROOT / "scripts" / "triage_data.py")
    triage_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(triage_data)

    (train_texts, train_labels), (held_texts, held_labels) = triage_data.spanish_complaints()
    assert not set(train_texts) & set(held_texts)
    assert len(train_texts) + len(held_texts) >= 150 and len(held_texts) == 91
    assert 0.35 < (sum(train_labels) + sum(held_labels)) / (len(train_texts) + len(held_texts)) < 0.45


def test_spanish_complaints_transfer_without_keywords() -> None:
    """Texts not in any data set: a problem that drags on is a complaint, a request or praise is not."""
    late = classify("@Correos llevo desde el lunes esperando la carta certificada y sigue en reparto", lang_hint="es")
    assert late.complaint and any(r.startswith("complaint model") for r in late.reasons)
    assert not classify("@Correos ¿a qué hora abre la oficina de la calle Mayor?", lang_hint="es").complaint
    assert not classify("@Correos el cartero de mi barrio es un sol, gracias 🙏", lang_hint="es").complaint
