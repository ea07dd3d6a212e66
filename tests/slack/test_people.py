"""users.info through the real Web API client: who is deactivated, and their timezone."""

from __future__ import annotations

from bot.domain.outbox import PersonInfo
from bot.slack.emulator import SlackEmulator
from bot.slack.gateway import SlackGateway, make_web_client


def gateway_for(slack: SlackEmulator) -> SlackGateway:
    return SlackGateway(make_web_client(token="xoxb-test", base_url=slack.api_url, timeout=5))


def test_users_info_says_who_is_deactivated_and_where_they_are(slack: SlackEmulator) -> None:
    gateway = gateway_for(slack)
    slack.user_timezones["U0TOKYO"] = "Asia/Tokyo"
    slack.deactivated_users.add("U0GONE")
    assert gateway.person("U0TOKYO") == PersonInfo("U0TOKYO", deleted=False, tz="Asia/Tokyo")
    assert gateway.person("U0GONE") == PersonInfo("U0GONE", deleted=True, tz="Europe/Berlin")
    assert gateway.person("C0NOTAPERSON") == PersonInfo("C0NOTAPERSON", deleted=True, tz=None)  # user_not_found


def test_when_slack_cannot_answer_the_directory_keeps_what_it_knew(slack: SlackEmulator) -> None:
    slack.fail("users.info", status=500)
    assert gateway_for(slack).person("U0ANY") is None
