"""The chart child process (see bot/reports/render.py): series as JSON on stdin, PNGs as base64 JSON
on stdout. Run as `python -m bot.reports.draw`; the app never imports this module."""

from __future__ import annotations

import base64
import json
import sys

from bot.reports import charts
from bot.reports.render import decode


def draw(text: str) -> dict[str, str]:
    """{chart name: base64 PNG} for the encoded series; no share of voice chart when nobody spoke."""
    series, voice = decode(text)
    pngs = {"volume": charts.volume_and_response(series), "sla": charts.sla_compliance(series),
            "tone": charts.tone_mix(series)}
    if voice:
        pngs["share_of_voice"] = charts.share_of_voice(voice)
    return {name: base64.b64encode(png).decode("ascii") for name, png in pngs.items()}


if __name__ == "__main__":
    json.dump(draw(sys.stdin.read()), sys.stdout)
