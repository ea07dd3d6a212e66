"""The request form's live preview: each change in the form → ack → the preview, shown by ``views.update``."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.services.preview import preview_request
from bot.services.runtime import Runtime
from bot.slack.blocks import REQUEST_VIEW
from bot.slack.field_inputs import FIELD_ACTION
from bot.slack.preview_blocks import with_preview
from handlers.guard import GuardedApp
from handlers.interactions import form_values
from handlers.payloads import FORM_DAMAGED, metadata_of, text, user_of, view_id_of, view_of


def register(app: GuardedApp, runtime: Runtime) -> None:
    @app.action(FIELD_ACTION, quiet=True)
    def preview(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = view_of(body)
        if view.get("callback_id") != REQUEST_VIEW:
            return  # an input of another form: nothing to preview
        kind = text(metadata_of(view).get("kind"), what="the form's kind", message=FORM_DAMAGED)
        shown = preview_request(runtime=runtime, kind=kind, requester=user_of(body), raw_values=form_values(view))
        seen = view.get("hash")
        # With the view's hash: when a newer change updated the form first, Slack refuses this
        # update (hash_conflict) and the next change shows its own preview. The guard passes that,
        # and every other failure, over quietly: this runs on every keystroke.
        client.views_update(
            view_id=view_id_of(view), hash=seen if isinstance(seen, str) else None, view=with_preview(view, shown)
        )
