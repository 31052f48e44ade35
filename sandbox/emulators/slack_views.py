"""The Slack emulator's views.* methods: modals opened, pushed and updated, and App Home published.

A trigger_id is good for one views.open or views.push (reuse → `exchanged_trigger_id`; the literal
"expired" → `expired_trigger_id`). views.update finds the view by `view_id` or `external_id` and
honours `hash` (a stale one → `hash_conflict`). Every accepted view is recorded in `views`.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.emulators.slack_checks import ApiError, json_arg, options_ok
from sandbox.emulators.slack_workspace import APP_ID, TEAM_ID, Workspace

Result = dict[str, Any]


def _checked_view(args: dict, *, home: bool = False) -> dict:
    view = json_arg(args.get("view"), "invalid_arguments")
    if not isinstance(view, dict) or view.get("type") not in ({"home"} if home else {"modal"}):
        raise ApiError("invalid_arguments")
    if (not home and "title" not in view) or len(view.get("blocks", [])) > 100:
        raise ApiError("invalid_arguments")
    if not options_ok(view.get("blocks")):
        raise ApiError("invalid_arguments")
    return view


class ViewMethods:
    """Web API methods named m_<method with dots as underscores>; `views` lists
    `{"method", "view", "trigger_id"/"user_id"}` for each accepted call, oldest first."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.views: list[dict] = []
        self._used_triggers: set[str] = set()

    def _trigger(self, args: dict) -> str:
        trigger = str(args.get("trigger_id") or "")
        if not trigger or trigger == "expired":
            raise ApiError("invalid_trigger_id" if not trigger else "expired_trigger_id")
        if trigger in self._used_triggers:
            raise ApiError("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        return trigger

    def _record(self, method: str, view: dict, view_id: str | None = None, **extra: Any) -> Result:
        stored = {**view, "id": view_id or f"V0{next(self.ws.ids):08d}", "hash": f"{time.time_ns()}.h",
                  "team_id": TEAM_ID, "app_id": APP_ID}
        self.views.append({"method": method, "view": stored, **extra})
        return {"view": stored}

    def _known_view(self, args: dict) -> dict:
        wanted_id, wanted_ext = args.get("view_id"), args.get("external_id")
        view = json_arg(args.get("view"), "invalid_arguments") or {}
        for record in reversed(self.views):
            stored = record["view"]
            if (wanted_id and stored["id"] == wanted_id) or (
                wanted_ext and stored.get("external_id") == wanted_ext
            ):
                return stored
        if not wanted_id and not wanted_ext and view.get("external_id"):
            return self._known_view({"external_id": view["external_id"]})
        raise ApiError("not_found")

    def m_views_open(self, args: dict) -> Result:
        trigger = self._trigger(args)
        return self._record("views.open", _checked_view(args), trigger_id=trigger)

    def m_views_push(self, args: dict) -> Result:
        trigger = self._trigger(args)
        return self._record("views.push", _checked_view(args), trigger_id=trigger)

    def m_views_update(self, args: dict) -> Result:
        current = self._known_view(args)
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        return self._record("views.update", _checked_view(args), current["id"])

    def m_views_publish(self, args: dict) -> Result:
        user = str(args.get("user_id") or "")
        if user not in self.ws.users:
            raise ApiError("user_not_found" if user else "invalid_arguments")
        return self._record("views.publish", _checked_view(args, home=True), user_id=user)
