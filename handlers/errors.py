"""The one error handler: anything a listener did not answer is logged with an id the user is given."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App
from slack_bolt.response import BoltResponse

log = logging.getLogger("signoff.errors")


def register(app: App) -> None:
    @app.error
    def unexpected(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s while handling %s", error_id, _what(body), exc_info=error)
        text = (
            f":warning: Something went wrong on our side (error `{error_id}`). Nothing was changed; please try again."
        )
        if body.get("type") == "view_submission":
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {_first_block(body): text}})
        if respond is not None and body.get("response_url"):
            respond(text=text, response_type="ephemeral", replace_original=False)
            return None
        if body.get("command"):
            return BoltResponse(status=200, body=text)
        return None


def _what(body: dict[str, Any]) -> str:
    return str(body.get("command") or body.get("type") or body.get("event", {}).get("type") or "a request")


def _first_block(body: dict[str, Any]) -> str:
    values = body.get("view", {}).get("state", {}).get("values", {})
    return next(iter(values), "reason")
