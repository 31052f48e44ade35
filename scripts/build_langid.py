"""Build bot/triage/langid.npz, Parley's language identifier, from py3langid's model (BSD-3-Clause).

    pip install "py3langid==0.4.0" && python scripts/build_langid.py [--out bot/triage/langid.npz]

py3langid loads a 100 053-feature x 142-language naive Bayes table and a 39 MB byte automaton: about
80 MB of memory on the first classification. Parley needs far less: the languages its customers
write in (`LANGUAGES`), and the features as sorted integer keys instead of an automaton. The
automaton is unrolled here into the byte string of every feature (a breadth-first walk from the
start state: the first path reaching a state is the state's string; py3langid emits, at each byte,
the longest feature ending there, and bot.triage.langid does the same with a key lookup). The
log-probabilities are quantised to one byte (steps of about 0.05 nats). Deterministic: the same
py3langid version gives the same bytes. The licence notice ships beside it (LICENSE-py3langid.txt).
"""

from __future__ import annotations

import argparse
import io
import lzma
import sys
import zipfile
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from bot.triage.langid import ARTEFACT, LANGUAGES, feature_key  # noqa: E402


def read_py3langid() -> dict[str, np.ndarray]:
    """The arrays of py3langid's shipped model."""
    with lzma.open(MODEL_DIR / MODEL_FILE) as f, np.load(io.BytesIO(f.read()), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def feature_strings(model: dict[str, np.ndarray]) -> list[bytes]:
    """The byte string of every feature, by feature number, from a walk of the automaton."""
    rows = model["nextmove"].reshape(-1, 256)
    row_of, emits = model["nextmove_row"], model["out_feat"]
    state_string: list[bytes | None] = [None] * len(row_of)
    state_string[0] = b""
    frontier = [0]
    while frontier:
        following = []
        for state in frontier:
            prefix = state_string[state]
            assert prefix is not None
            for byte, target in enumerate(rows[row_of[state]].tolist()):
                if state_string[target] is None:
                    state_string[target] = prefix + bytes([byte])
                    following.append(target)
        frontier = following
    strings: list[bytes | None] = [None] * (int(emits.max()) + 1)
    for state, feature in enumerate(emits.tolist()):
        s = state_string[state]
        if feature >= 0 and s is not None and (strings[feature] is None or len(s) < len(strings[feature] or b"")):
            strings[feature] = s  # the shortest state emitting a feature is the feature itself
    assert all(s is not None for s in strings)
    return [s for s in strings if s is not None]


def build(out: Path) -> None:
    model = read_py3langid()
    classes = model["classes"].tolist()
    keep = [classes.index(lang) for lang in LANGUAGES]  # first column of a duplicated code
    strings = feature_strings(model)
    # bot.triage.langid pads the text with NUL bytes and relies on no feature starting with one.
    assert not any(s.startswith(b"\0") for s in strings)
    keys = np.array([feature_key(s) for s in strings], dtype=np.uint64)
    order = np.argsort(keys)
    ptc = model["ptc"].astype(np.float32)[order][:, keep]
    low, high = float(ptc.min()), float(ptc.max())
    scale = (high - low) / 255
    arrays = {
        "keys": keys[order],
        "ptc": np.round((ptc - low) / scale).astype(np.uint8),
        "quant": np.array([low, scale], dtype=np.float64),
        "pc": model["pc"][keep].astype(np.float32),
    }
    with zipfile.ZipFile(out, "w") as archive:  # fixed timestamps: same input, same bytes
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())
    print(f"wrote {out}: {len(keys)} features x {len(LANGUAGES)} languages, {out.stat().st_size / 1e6:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTEFACT)
    build(parser.parse_args().out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
