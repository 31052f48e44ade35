"""Train bot.triage's tone (English, Spanish) and complaint models from data/triage/ and ship them.

    python scripts/train_triage.py [--out bot/triage/models.npz] [--report]

Each model is a multinomial logistic regression over TF-IDF word and character n-grams
(bot.triage.features) plus VADER's scores (bot.triage.tone), fitted with L-BFGS on the training
split only. Its L2 strength C is chosen by stratified 5-fold cross-validation on that same training
split (macro-F1); the validation splits and the complaint hold-out are never looked at here
(bench/triage_accuracy.py reports them). Everything is deterministic, fold assignment included,
so a run re-creates the shipped weights; --report prints the cross-validation table.

Then the Spanish complaint model of bot.triage.transfer: a logistic regression over six signals
(the Spanish tone model just trained, VADER, the rules, a question, persistence markers), fitted on
the train half of the project's own labelled Spanish tweets, C chosen by the same cross-validation.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix, hstack

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import triage_data  # noqa: E402

from bot.triage import transfer  # noqa: E402
from bot.triage.features import Vocabulary, columns, count  # noqa: E402
from bot.triage.model import ARTEFACT, dense_features, from_stored, save, stored  # noqa: E402
from bot.triage.rules import scan  # noqa: E402
from bot.triage.tone import tone_score  # noqa: E402

C_GRID = (0.3, 1.0, 3.0, 10.0)
FOLDS = 5
SEED = 12
MIN_DF = 2


def fit_logreg(x: csr_matrix, y: np.ndarray, classes: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    """(weights of shape (d, k), bias k) minimising C·cross-entropy + ½‖W‖² (scikit-learn's objective)."""
    d = x.shape[1]
    onehot = np.eye(classes)[y]
    xt = x.T.tocsr()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = w[: d * classes].reshape(d, classes), w[d * classes:]
        z = x @ weights + bias
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        diff = np.exp(log_p) - onehot
        value = -c * float((onehot * log_p).sum()) + 0.5 * float((weights * weights).sum())
        grad = np.concatenate([(c * (xt @ diff) + weights).ravel(), c * diff.sum(axis=0)])
        return value, grad

    result = minimize(loss, np.zeros(d * classes + classes), jac=True, method="L-BFGS-B",
                      options={"maxiter": 2000, "gtol": 1e-6})
    return result.x[: d * classes].reshape(d, classes), result.x[d * classes:]


def macro_f1(want: np.ndarray, have: np.ndarray, classes: int) -> float:
    """Mean over classes of F1 (a class never predicted nor present counts 0)."""
    scores = []
    for k in range(classes):
        tp = int(((want == k) & (have == k)).sum())
        denominator = int((want == k).sum() + (have == k).sum())
        scores.append(2 * tp / denominator if denominator else 0.0)
    return sum(scores) / classes


def matrix(texts: list[str], feats: list[tuple[np.ndarray, np.ndarray]], vocab: Vocabulary, lang: str) -> csr_matrix:
    """Rows of TF-IDF n-grams followed by the dense lexicon features."""
    rows, cols, vals = [], [], []
    for r, text_features in enumerate(feats):
        c, v = vocab.vector(text_features)
        rows += [r] * len(c)
        cols += c.tolist()
        vals += v.tolist()
    sparse = csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab.idf)))
    dense = csr_matrix(np.array([dense_features(tone_score(t, lang)) for t in texts]))
    return hstack([sparse, dense]).tocsr()


def folds(labels: list[int], k: int) -> list[int]:
    """A stratified fold number per row, from a fixed seed."""
    rng = random.Random(SEED)
    fold = [0] * len(labels)
    for label in sorted(set(labels)):
        rows = [i for i, y in enumerate(labels) if y == label]
        rng.shuffle(rows)
        for j, i in enumerate(rows):
            fold[i] = j % k
    return fold


def compact(x: csr_matrix) -> tuple[csr_matrix, np.ndarray]:
    """`x` without its all-zero columns, and the kept column numbers (fitting is faster on fewer)."""
    used = np.flatnonzero(np.asarray(x.getnnz(axis=0)) > 0)
    return x[:, used].tocsr(), used


def fit_path(x: csr_matrix, y: np.ndarray, classes: int) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """A fit for every C of the grid, on the used columns only, weights expanded back to all columns."""
    small, used = compact(x)
    fits = {}
    for c in C_GRID:
        w_small, b = fit_logreg(small, y, classes, c)
        w = np.zeros((x.shape[1], classes))
        w[used] = w_small
        fits[c] = (w, b)
    return fits


def train(texts: list[str], labels: list[int], lang: str, classes: int, report: bool) -> dict:
    """Choose C by cross-validation on (texts, labels), then fit on all of them."""
    fold = np.array(folds(labels, FOLDS))
    y = np.array(labels)
    feats = [count(columns(t)) for t in texts]
    scores: dict[float, list[float]] = {c: [] for c in C_GRID}
    for k in range(FOLDS):
        vocab = Vocabulary.fit((f for f, n in zip(feats, fold, strict=True) if n != k), MIN_DF)
        x = matrix(texts, feats, vocab, lang)
        for c, (w, b) in fit_path(x[fold != k], y[fold != k], classes).items():
            scores[c].append(macro_f1(y[fold == k], (x[fold == k] @ w + b).argmax(axis=1), classes))
    cv = {c: float(np.mean(s)) for c, s in scores.items()}
    if report:
        print("  " + lang + " " + "  ".join(f"C={c}: {f1:.3f}" for c, f1 in cv.items()))
    best = max(C_GRID, key=lambda c: (cv[c], -c))  # ties go to the stronger regularisation
    vocab = Vocabulary.fit(feats, MIN_DF)
    small, used = compact(matrix(texts, feats, vocab, lang))
    w_small, b = fit_logreg(small, y, classes, best)
    w = np.zeros((len(vocab.idf) + len(dense_features(0.0)), classes))
    w[used] = w_small
    return {"idf": vocab.idf, "weights": w, "bias": b, "c": best, "cv_f1": cv[best]}


def train_transfer(tone_es: dict, report: bool) -> dict:
    """bot.triage.transfer's weights: C by cross-validation on the own Spanish train half, then a fit on it all."""
    (texts, labels), _held_out = triage_data.spanish_complaints()
    tone = from_stored(stored(tone_es))
    rows = []
    for text in texts:
        score = tone_score(text, "es")
        probabilities = tone.probabilities(count(columns(text)), score)
        rows.append(transfer.features(probabilities, score, scan(text), text))
    x, y, fold = csr_matrix(np.array(rows)), np.array(labels), np.array(folds(labels, FOLDS))
    cv = {}
    for c in C_GRID:
        scores = []
        for k in range(FOLDS):
            w, b = fit_logreg(x[fold != k], y[fold != k], 2, c)
            scores.append(macro_f1(y[fold == k], (x[fold == k] @ w + b).argmax(axis=1), 2))
        cv[c] = float(np.mean(scores))
    if report:
        print("  " + transfer.NAME + " " + "  ".join(f"C={c}: {f1:.3f}" for c, f1 in cv.items()))
    best = max(C_GRID, key=lambda c: (cv[c], -c))
    w, b = fit_logreg(x, y, 2, best)
    return {"weights": w, "bias": b, "c": best, "cv_f1": cv[best]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTEFACT)
    parser.add_argument("--report", action="store_true", help="print the cross-validation table")
    args = parser.parse_args()
    models = {}
    for lang in ("en", "es"):
        texts, labels = triage_data.sentiment(lang, "train")
        models[f"tone_{lang}"] = train(texts, labels, lang, 3, args.report)
    (texts, labels), _held_out = triage_data.complaints()
    models["complaint_en"] = train(texts, labels, "en", 2, args.report)
    models[transfer.NAME] = train_transfer(models["tone_es"], args.report)
    save(args.out, models)
    for name, m in models.items():
        used = int((m["idf"] > 0).sum()) if "idf" in m else len(m["weights"])
        print(f"{name}: {used} feature columns, C={m['c']}, cross-validated macro-F1 {m['cv_f1']:.3f}")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
