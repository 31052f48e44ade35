"""bot.triage.langid: the pruned language identifier is small, agrees with py3langid, and
scripts/build_langid.py re-creates the shipped artefact byte for byte."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.triage import langid, language
from bot.triage.language import detect_language

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = {
    "en": "My parcel still has not arrived and nobody answers the phone",
    "es": "Mi pedido todavía no llega y nadie contesta el teléfono",
    "pt": "Meu pedido ainda não chegou e ninguém atende o telefone",
    "fr": "Mon colis n'est toujours pas arrivé et personne ne répond au téléphone",
    "de": "Mein Paket ist immer noch nicht angekommen und niemand geht ans Telefon",
    "it": "Il mio pacco non è ancora arrivato e nessuno risponde al telefono",
    "nl": "Mijn pakket is nog steeds niet aangekomen en niemand neemt de telefoon op",
    "pl": "Moja paczka nadal nie dotarła i nikt nie odbiera telefonu",
    "tr": "Paketim hâlâ gelmedi ve kimse telefonu açm\u0131yor",
    "ja": "荷物がまだ届かず、誰も電話に出ません",
    "ru": "Моя посылка до сих пор не пришла, и никто не отвечает на звонки",
}


def test_the_artefact_is_small_and_ships_its_licence() -> None:
    assert langid.ARTEFACT.stat().st_size < 5_000_000
    assert "BSD 3-Clause" in langid.ARTEFACT.with_name("LICENSE-py3langid.txt").read_text("utf-8")


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_languages_are_told_apart(lang: str) -> None:
    assert langid.rank(SAMPLES[lang])[0][0] == lang
    assert detect_language(SAMPLES[lang]) == lang


def test_probabilities_are_a_distribution_even_without_features() -> None:
    for text in ("", "👍", "x", "HELLO WORLD"):
        ranked = langid.rank(text)
        assert len(ranked) == len(langid.LANGUAGES)
        assert abs(sum(p for _, p in ranked) - 1) < 1e-9


def test_it_scores_like_py3langid_and_the_build_is_reproducible(tmp_path: Path) -> None:
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(list(langid.LANGUAGES))
    for text in [*SAMPLES.values(), "gracias!!", "ok thx", "@acme 😡 still no refund"]:
        theirs = dict(reference.rank(text))
        ours = langid.rank(text)
        assert ours[0][0] == max(theirs, key=theirs.__getitem__)
        assert max(abs(p - theirs[lang]) for lang, p in ours) < 0.01  # one-byte quantisation

    spec = importlib.util.spec_from_file_location("build_langid", ROOT / "scripts" / "build_langid.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT))
    spec.loader.exec_module(module)
    module.build(tmp_path / "langid.npz")
    assert (tmp_path / "langid.npz").read_bytes() == langid.ARTEFACT.read_bytes()


SETTLED_TEXTS = [
    "hola, no me llegó el pedido y nadie responde", "the app is down again and nobody answers",
    "gracias", "thanks", "ok", "no", "me", "a", "obrigado pela ajuda, o pedido chegou", "merci beaucoup",
    "@acme where is my order??? #fail https://t.co/x", "el the la of de", "😀😀", "Danke schön für alles",
    "is the store open today?", "la tienda está abierta hoy?", "I can't log in to my account",
]


@pytest.mark.parametrize("hint", [None, "en", "es", "pt", "xx", "und"])
def test_texts_settled_by_their_words_get_the_identifiers_answer(hint: str | None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the identifier when the words and hint decide is a shortcut, never another answer."""
    quick = [detect_language(t, hint) for t in SETTLED_TEXTS]
    monkeypatch.setattr(language, "_settled", lambda *args: None)
    assert quick == [detect_language(t, hint) for t in SETTLED_TEXTS]
