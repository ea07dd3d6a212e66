"""A refusal (``SignoffError``) in Slack's words: people as mentions in messages, by name in forms."""

from __future__ import annotations

from string import Formatter
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.errors import SignoffError
from bot.domain.fields import USER_ID
from bot.slack.blocks import escape
from bot.slack.messages import person

#: What a Web API call raises when Slack refuses it, answers 5xx, or cannot be reached.
SLACK_FAILURES: tuple[type[Exception], ...] = (SlackApiError, SlackClientError, URLError, TimeoutError)


def refusal_text(error: SignoffError) -> str:
    """The refusal as mrkdwn, after ``:no_entry:``: people it names are mentions, the rest escaped."""
    return ":no_entry: " + "".join(
        escape(literal) + (person(error.people[name]) if name else "")
        for literal, name, _, _ in Formatter().parse(error.template)
    )


def refusal_plain(error: SignoffError, client: WebClient) -> str:
    """The refusal as plain text (a form's error, where Slack shows no mentions): people by their name."""
    names = {key: _name_of(actor, client) for key, actor in error.people.items()}
    return error.template.format(**names) if names else error.template


def _name_of(actor: str, client: WebClient) -> str:
    if not USER_ID.fullmatch(actor):
        return actor.replace("rule:", "rule ").replace("system", "Signoff")
    try:
        user = client.users_info(user=actor).get("user") or {}
    except SLACK_FAILURES:
        return "@" + actor  # Slack cannot say: the id is still exact
    profile = user.get("profile") or {}
    shown = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    return "@" + str(shown or actor)
