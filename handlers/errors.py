"""The one error handler: anything a listener did not answer is logged with an id the user is given.

A refusal (``SignoffError``, ``StorageBusy`` included) that reaches it is said to the person as it is.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App
from slack_bolt.response import BoltResponse

from bot.domain.errors import SignoffError
from bot.slack.observed import describe_request
from handlers.payloads import dig
from handlers.refusals import refusal_text

log = logging.getLogger("signoff.errors")


def register(app: App) -> None:
    @app.error
    def unexpected(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
        body = body if isinstance(body, dict) else {}
        if isinstance(error, SignoffError):  # a refusal (StorageBusy, say) is no bug: said as it is, not logged
            text = refusal_text(error)
        else:
            error_id = uuid.uuid4().hex[:8]
            log.exception("error %s while handling %s", error_id, _what(body), exc_info=error)
            text = (
                f":warning: Something went wrong on our side (error `{error_id}`). "
                "Nothing was changed; please try again."
            )
        if body.get("type") == "view_submission":
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {_first_block(body): text}})
        if respond is not None and isinstance(body.get("response_url"), str):
            respond(text=text, response_type="ephemeral", replace_original=False)
            return None
        if body.get("command"):
            return BoltResponse(status=200, body=text)
        return None


def _what(body: dict[str, Any]) -> str:
    return describe_request(body)


def _first_block(body: dict[str, Any]) -> str:
    values = dig(body, "view", "state", "values")
    return next(iter(values), "reason") if isinstance(values, dict) else "reason"
