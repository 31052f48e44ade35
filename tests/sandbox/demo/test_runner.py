import io

import pytest

from app import build
from sandbox.demo.runner import run_demo


@pytest.mark.e2e
def test_demo_mirrors_both_platforms_exactly_once():
    out = io.StringIO()
    assert run_demo(build, out) == 0
    text = out.getvalue()
    assert "X mention from @" in text and "Facebook comment from" in text and "Messenger" in text
    assert "re-poll from scratch: 0 new messages, 0 new Slack posts" in text
    assert "✗" not in text
