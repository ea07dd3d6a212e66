"""The request form's live preview: each change in the form → ack → the preview, shown by ``views.update``.

Every update carries the view's ``hash``, so Slack refuses one made from an outdated form
(``hash_conflict``). Slack's hash does not change while someone types, so two quick keystrokes
carry the same hash: whichever update lands first wins, and when that is the *older* keystroke's,
the newer one is refused and the form would show the preview of what it no longer says. So a
refused update is sent again, without the hash, when its change is the newest this process has
seen for that form (by ``action_ts``); an older change's refused update is dropped. (With several
``serve`` replicas behind one Request URL, two keystrokes of one form may reach two processes: each
knows only its own, and the last update to land wins, as Slack would have it without hashes.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.preview import preview_request
from bot.services.runtime import Runtime
from bot.slack.blocks import REQUEST_VIEW
from bot.slack.field_inputs import FIELD_ACTION
from bot.slack.modals import request_modal
from bot.slack.preview_blocks import with_preview
from handlers.guard import GuardedApp
from handlers.interactions import form_values
from handlers.payloads import FORM_DAMAGED, metadata_of, text, user_of, view_id_of, view_of

#: How many forms' newest change a process remembers (the least recently changed are forgotten first).
REMEMBERED_FORMS = 4096


#: How far ahead of this process's clock an ``action_ts`` may be and still count (Slack's clock and
#: ours differ a little); one further ahead is treated as absent, so that it never makes every
#: real change of that form look older than it.
FUTURE_LEEWAY_SECONDS = 60


def action_moment(body: dict[str, Any], *, now: float) -> tuple[int, int] | None:
    """The change's ``action_ts`` (``"1700000000.123456"``: seconds and microseconds) as an exactly
    comparable pair; None when the payload has none, it is not that shape, or it is more than
    ``FUTURE_LEEWAY_SECONDS`` after ``now`` (Unix seconds)."""
    actions = body.get("actions")
    stamp = (
        actions[0].get("action_ts") if isinstance(actions, list) and actions and isinstance(actions[0], dict) else None
    )
    if not isinstance(stamp, str):
        return None
    seconds, _, fraction = stamp.partition(".")
    if not (seconds.isdigit() and (fraction.isdigit() or not fraction)) or len(fraction) > 9:
        return None
    if int(seconds) > now + FUTURE_LEEWAY_SECONDS:
        return None
    return int(seconds), int(fraction.ljust(9, "0"))


class NewestChanges:
    """The newest change seen per form (view id) in this process; thread-safe, bounded."""

    def __init__(self, size: int = REMEMBERED_FORMS):
        self._size = size
        self._seen: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, view_id: str, moment: tuple[int, int]) -> None:
        with self._lock:
            known = self._seen.pop(view_id, None)
            self._seen[view_id] = moment if known is None else max(known, moment)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def is_newest(self, view_id: str, moment: tuple[int, int]) -> bool:
        with self._lock:
            return self._seen.get(view_id, moment) <= moment


def register(app: GuardedApp, runtime: Runtime) -> None:
    newest = NewestChanges()

    @app.action(FIELD_ACTION, quiet=True)
    def preview(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = view_of(body)
        if view.get("callback_id") != REQUEST_VIEW:
            return  # an input of another form: nothing to preview
        metadata = metadata_of(view)
        kind = text(metadata.get("kind"), what="the form's kind", message=FORM_DAMAGED)
        requester = user_of(body)
        if metadata.get("by", requester) != requester:
            return  # someone else's form: its preview is theirs (a form opened before "by" has none)
        view_id, moment = view_id_of(view), action_moment(body, now=runtime.clock.now().timestamp())
        if moment is not None:
            newest.note(view_id, moment)
        shown = preview_request(runtime=runtime, kind=kind, requester=requester, raw_values=form_values(view))
        spec = runtime.governance().kind(kind)
        form = request_modal(kind=spec.name, title=spec.title, fields=spec.contract.fields, preview=shown)
        seen = view.get("hash")
        updated = with_preview(view, form)
        try:
            client.views_update(view_id=view_id, hash=seen if isinstance(seen, str) else None, view=updated)
        except SlackApiError as exc:
            stale = exc.response.get("error") == "hash_conflict"
            if not (stale and moment is not None and newest.is_newest(view_id, moment)):
                raise  # the guard passes it over quietly (an older change's preview is not wanted)
            client.views_update(view_id=view_id, view=updated)  # the newest change: its preview must show
