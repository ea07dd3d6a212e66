"""The **Show YAML** button of a suggested default in the owner's weekly summary (DESIGN §8 "In Slack").

Parse → ack → check → open: the modal is built from what the button carries (``bot.slack.
suggestion_view``), never by mining the history again, so it opens well within the trigger's 3 s.
Only the kind's owner (in the governance in force) is shown it; anyone else, say with a forwarded
payload, gets an ephemeral refusal. Nothing here changes the governance file.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.services.runtime import Runtime
from bot.services.surface_summary import check_may_see_suggestion
from bot.slack.suggestion_view import SHOW_YAML, read_suggestion_value, suggestion_modal
from handlers.guard import GuardedApp
from handlers.payloads import BadPayload, trigger_of, user_of

#: What the person reads when a Show YAML button carries nothing Signoff can read.
SUGGESTION_DAMAGED = "This button does not carry a suggestion Signoff can read; run `signoff suggest` to see it."


def register(app: GuardedApp, runtime: Runtime) -> None:
    @app.action(SHOW_YAML)
    def show_yaml(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        carried = read_suggestion_value(action.get("value"))
        if carried is None:
            raise BadPayload(SUGGESTION_DAMAGED, "the Show YAML button carries no suggestion")
        # A refusal (NotAllowed) is told to the person, ephemerally, by the guard.
        check_may_see_suggestion(runtime=runtime, kind=carried.suggestion.kind, viewer=user_of(body))
        client.views_open(trigger_id=trigger_of(body), view=suggestion_modal(carried))
