"""Parley.send_soon: sends wait while Slack is being acknowledged, and one case's run in order."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from bot.ack_first import AckFirstExecutor
from bot.runtime import Parley


def test_replies_to_one_case_held_together_are_sent_in_the_order_asked() -> None:
    handlers = AckFirstExecutor(1, max_hold=10.0, quiet=0.0)
    sends = handlers.sibling(4, name="send")
    order: list[int] = []

    class Sender:  # the first reply's platform call is the slow one
        def deliver(self, message_id: int) -> None:
            time.sleep(0.2 if message_id == 1 else 0.0)
            order.append(message_id)

    host = SimpleNamespace(workers=sends, sender=Sender(), _sends_lock=threading.Lock(), _last_send={})
    host._forget_send = lambda case, done: Parley._forget_send(host, case, done)  # type: ignore[arg-type]
    try:
        with handlers.acknowledging():  # all three are held, then released together
            for message_id, case in ((1, 7), (2, 7), (3, 8)):
                Parley.send_soon(host, message_id, case=case)  # type: ignore[arg-type]
            time.sleep(0.1)
            assert order == []
        deadline = time.monotonic() + 5
        while (len(order) < 3 or host._last_send) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert order == [3, 1, 2]  # case 8 did not wait for case 7; case 7's second after its first
        assert host._last_send == {}  # finished sends are forgotten
    finally:
        sends.shutdown()
        handlers.shutdown()
