"""Acknowledge first, work after: how a handler is registered so that Slack hears 200 before any
database or Slack work starts.

Parley's Bolt app runs with `process_before_response=True`, and `after_ack` registers a handler as a
Bolt *lazy listener* (https://docs.slack.dev/tools/bolt-python/concepts/lazy-listeners): the ack
function only calls `ack()`, in the request's own thread, so the HTTP answer (or the Socket Mode
envelope ack) goes out as soon as the request is verified and matched; the handler itself runs
after, in the app's listener executor, and answers through `respond` (the response_url) or the Web
API. Why not Bolt's default (`process_before_response=False`, `ack()` as the handler's first line):
there the handler, ack included, waits for a free executor thread — busy with earlier requests'
queries — and Bolt polls for the ack every 10 ms, so 50 concurrent commands took p99 230 ms to
acknowledge, against ~70 ms for an app that only acks (bench/ack_latency.py).

Bolt only logs a lazy function's exception ("Failed to run an internal function"), so the wrapper
hands it to `failures.on_unhandled`, as Bolt's error handler would: logged with an id, and the
person is told. A listener whose answer *is* the acknowledgement (a view submission's errors) is
registered with Bolt directly; see commands/reply_modal.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from slack_bolt import Ack
from slack_bolt.kwargs_injection.args import Args

from commands import failures

# The names Bolt can inject (`slack_bolt.kwargs_injection.args.Args`), minus its own plumbing.
_INJECTABLE = frozenset(inspect.signature(Args.__init__).parameters) - {"self", "kwargs"}


def _ack_only(ack: Ack) -> None:
    ack()


def after_ack(register: Callable[..., object], *, ack: Callable[..., None] = _ack_only
              ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`@after_ack(app.action(ids.X))` on a handler that takes Bolt's usual arguments (`body`,
    `respond`, `client`, …, never `ack`): Slack is acknowledged at once and the handler runs after.
    `ack` replaces the plain acknowledgement where the answer needs the request (a view's errors)."""
    def decorate(handler: Callable[..., None]) -> Callable[..., None]:
        names = list(inspect.signature(handler).parameters)
        unknown = [name for name in names if name not in _INJECTABLE or name == "ack"]
        if unknown:  # at start-up, not at the first click
            raise TypeError(f"{handler.__name__} asks for {unknown}, which a handler run after the ack cannot have")

        def later(args: Args) -> None:
            try:
                handler(**{name: getattr(args, name) for name in names})
            except Exception as error:  # as Bolt's error handler: logged with an id, the person told
                failures.on_unhandled(error, args.body, args.respond, args.client, None)

        later.__name__ = later.__qualname__ = handler.__name__  # Bolt names lazy functions in its logs
        register(ack=ack, lazy=[later])
        return handler

    return decorate
