"""Is Slack there, and does it take our token? Asked once at start, with a bounded, logged retry."""

from __future__ import annotations

import logging
import time
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("signoff.slack")

#: Seconds between tries while Slack does not answer: doubling from the first, at most the last.
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 8.0


class SlackUnreachable(Exception):
    """Slack did not answer within the startup window; the message names SIGNOFF_SLACK_API_URL."""


class SlackRefusedToken(Exception):
    """Slack answered ``auth.test`` with a token error (``invalid_auth``, ``account_inactive``, …)."""


class NotSlackWebApi(Exception):
    """What answers at SIGNOFF_SLACK_API_URL is not Slack's Web API (a 404, an HTML page, an unknown error)."""


#: ``auth.test`` errors that are about the token itself (Slack's documented errors for the method).
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
        "two_factor_setup_required",
        "invalid_token",
    }
)


def check_slack(*, token: str, base_url: str, within: float) -> dict[str, object]:
    """Call ``auth.test`` until Slack answers or ``within`` seconds pass; returns its answer.

    Each failed try is one log line. Raises ``SlackRefusedToken`` when Slack rejects the token,
    ``NotSlackWebApi`` when something else answers at ``base_url``, and ``SlackUnreachable`` when
    nothing answered.
    """
    client = WebClient(token=token, base_url=base_url, timeout=max(1, min(10, int(within) or 1)), retry_handlers=[])
    deadline = time.monotonic() + within
    pause = FIRST_PAUSE
    while True:
        try:
            return dict(client.auth_test().data)  # type: ignore[arg-type]
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if error in TOKEN_ERRORS:
                raise SlackRefusedToken(str(error)) from None
            raise NotSlackWebApi(
                f"SIGNOFF_SLACK_API_URL={base_url} does not answer like Slack's Web API "
                f"(auth.test gave HTTP {exc.response.status_code}, {error or 'no Slack answer'}); "
                "it accepts the Web API's base URL, such as https://slack.com/api/"
            ) from None
        except (SlackClientError, URLError, OSError) as exc:
            reason = _reason(exc)
        left = deadline - time.monotonic()
        if left <= 0:
            raise SlackUnreachable(
                f"Slack does not answer at SIGNOFF_SLACK_API_URL={base_url} ({reason}); "
                "check the URL (default https://slack.com/api/) and the network"
            )
        wait = min(pause, left)
        log.warning("Slack does not answer at %s (%s); trying again in %.1f s", base_url, reason, wait)
        time.sleep(wait)  # a backoff between tries, not a synchronization
        pause = min(pause * 2, LONGEST_PAUSE)


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None)
    return str(inner if inner is not None else exc) or exc.__class__.__name__
