"""Charts drawn in a short-lived child process, so the app itself never loads matplotlib.

Why: matplotlib and a drawn figure add about 45 MB to a process that must stay under 150 MB RSS,
and Python rarely gives that memory back. `render(series, voice)` runs `python -m bot.reports.draw`
(the only module that imports bot/reports/charts.py), which reads the series as JSON on stdin,
writes the PNGs (base64, in JSON) on stdout and exits, freeing everything. A failed or slow child
raises `RenderError`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from pathlib import Path

from bot.reports.series import DailySeries

TIMEOUT_S = 60
CHARTS = ("volume", "sla", "tone", "share_of_voice")  # the keys of `render`'s answer, in this order
_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the `bot` package


class RenderError(RuntimeError):
    """The chart process failed; the message has its last words."""


def encode(series: DailySeries, voice: Mapping[str, int]) -> str:
    data = asdict(series) | {"days": [d.isoformat() for d in series.days]}
    return json.dumps({"series": data, "voice": dict(voice)})


def decode(text: str) -> tuple[DailySeries, dict[str, int]]:
    data = json.loads(text)
    series = data["series"] | {"days": [date.fromisoformat(d) for d in data["series"]["days"]]}
    return DailySeries(**series), data["voice"]


def render(series: DailySeries, voice: Mapping[str, int]) -> dict[str, bytes]:
    """{chart name: PNG} for CHARTS; share_of_voice is absent when `voice` is empty."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])),
               MPLBACKEND="Agg")
    try:
        done = subprocess.run([sys.executable, "-m", "bot.reports.draw"], input=encode(series, voice),
                              capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"drawing the charts took longer than {TIMEOUT_S}s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RenderError(f"drawing the charts failed (exit {done.returncode}): {last}")
    return {name: base64.b64decode(png) for name, png in json.loads(done.stdout).items()}
