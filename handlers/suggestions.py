"""The **Show YAML** button of a suggested default in the owner's weekly summary (DESIGN §8 "In Slack").

Parse → ack → check → open: the modal is built from what the button carries (``bot.slack.
suggestion_view``), never by mining the history again, so it opens well within the trigger's 3 s.
Only the kind's owner (in the governance in force) is shown it; anyone else, say with a forwarded
payload, gets an ephemeral refusal. A value Signoff cannot read (``read_suggestion_value`` checks
every part), a rule its kind in force cannot have, or one whose YAML cannot be written exactly
gets ``SUGGESTION_DAMAGED``. Nothing here changes the governance file.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.services.runtime import Runtime
from bot.services.surface_summary import check_may_see_suggestion, suggestion_fits
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
        if not suggestion_fits(runtime=runtime, suggestion=carried.suggestion):
            raise BadPayload(SUGGESTION_DAMAGED, "the Show YAML button carries a rule its kind cannot have")
        try:
            view = suggestion_modal(carried)
        except ValueError as exc:  # its YAML cannot be written to read back as it is (bot.rule_yaml)
            raise BadPayload(SUGGESTION_DAMAGED, f"the Show YAML button's rule cannot be shown: {exc}") from None
        client.views_open(trigger_id=trigger_of(body), view=view)
