"""Outbound Slack for the outbox relay: cards, card updates and DMs through the Web API.

Failures become ``DeliveryError``s the relay understands: a 429 carries Slack's
``Retry-After``; errors that will not go away by retrying (the channel is gone, the bot is
not in it, the user left) are permanent; everything else (5xx, timeouts, connection errors)
is retried with backoff.
"""

from __future__ import annotations

import logging
import threading
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.domain.cards import Card
from bot.domain.notices import Notification
from bot.domain.outbox import DeliveryError, MessageRef, PersonInfo
from bot.slack.blocks import card_blocks, card_text, digest_blocks
from bot.slack.messages import notification_blocks, notification_text
from bot.slack.observed import ErrorHook, ObservedWebClient

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "message_not_found",
        "cant_update_message",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
    }
)


def make_web_client(*, token: str, base_url: str, timeout: int = 10, on_error: ErrorHook | None = None) -> WebClient:
    """A Web API client for ``base_url`` that retries dropped connections itself.

    Rate limits and 5xx answers are not retried in the client: the relay honours
    ``Retry-After`` and backs off without holding a thread. ``on_error`` hears of every failed call.
    """
    retry_handlers: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=2)]
    return ObservedWebClient(
        token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers, on_error=on_error
    )


class SlackGateway:
    """Implements the relay's gateway with a ``WebClient``."""

    def __init__(self, client: WebClient):
        self.client = client
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    def post_card(self, *, recipient: str, card: Card) -> MessageRef:
        channel = self._channel_for(recipient)
        response = self._call(
            "chat.postMessage", channel=channel, text=card_text(card), blocks=card_blocks(card), unfurl_links=False
        )
        return MessageRef(str(response["channel"]), str(response["ts"]), recipient)

    def update_card(self, *, ref: MessageRef, card: Card, buttons: bool = True) -> None:
        """Re-render a posted copy; ``buttons`` False for a recipient who may no longer decide."""
        blocks = card_blocks(card, buttons=buttons)
        self._call("chat.update", channel=ref.channel, ts=ref.ts, text=card_text(card), blocks=blocks)

    def notify(self, *, notification: Notification, card: Card | None) -> None:
        channel = self._channel_for(notification.user)
        self._call(
            "chat.postMessage",
            channel=channel,
            text=notification_text(notification),
            blocks=notification_blocks(notification, card),
            unfurl_links=False,
        )

    def send_digest(self, *, user: str, cards: list[Card], more: int, auto_resolved: int) -> None:
        channel = self._channel_for(user)
        text = f"{len(cards) + more} request{'s' if len(cards) + more != 1 else ''} wait on your decision."
        blocks = digest_blocks(cards, more=more, auto_resolved=auto_resolved)
        self._call("chat.postMessage", channel=channel, text=text, blocks=blocks, unfurl_links=False)

    def person(self, user: str) -> PersonInfo | None:
        """What users.info says of ``user``: deactivated or not, and their timezone.

        A user Slack does not know (``user_not_found``) counts as deactivated; None when Slack
        could not answer (network, rate limit, 5xx): the directory keeps what it knew.
        """
        try:
            response = self.client.users_info(user=user)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if error in ("user_not_found", "user_not_visible"):
                return PersonInfo(user, deleted=True, tz=None)
            log.warning("users.info for %s failed (%s); keeping what the directory knew", user, error or exc)
            return None
        except (SlackClientError, URLError, OSError) as exc:
            log.warning("users.info for %s failed (%s); keeping what the directory knew", user, exc)
            return None
        profile = response.get("user")
        if not isinstance(profile, dict):
            return None
        tz = str(profile["tz"]) if profile.get("tz") else None
        return PersonInfo(user, deleted=bool(profile.get("deleted")) or bool(profile.get("is_bot")), tz=tz)

    def _channel_for(self, recipient: str) -> str:
        """A channel id as is; a person's DM channel, opened once and remembered."""
        if not recipient.startswith(("U", "W")):
            return recipient
        with self._lock:
            known = self._dm_channels.get(recipient)
        if known is not None:
            return known
        response = self._call("conversations.open", users=recipient)
        opened = response.get("channel")
        if not isinstance(opened, dict) or "id" not in opened:
            raise DeliveryError(f"conversations.open gave no channel for {recipient}")
        channel = str(opened["id"])
        with self._lock:
            self._dm_channels[recipient] = channel
        return channel

    def _call(self, method: str, **arguments: object) -> dict[str, object]:
        try:
            response = self.client.api_call(method, json=arguments)
        except SlackApiError as exc:
            raise _delivery_error(method, exc) from None
        except (SlackClientError, URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"{method}: {exc.__class__.__name__}: {exc}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}


def _delivery_error(method: str, exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error") or "unknown_error") if isinstance(response.data, dict) else "unknown_error"
    if response.status_code == 429:
        retry_after = float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
        return DeliveryError(f"{method}: ratelimited", retry_after=retry_after)
    if error in PERMANENT_ERRORS:
        return DeliveryError(f"{method}: {error}", permanent=True, code=error)
    return DeliveryError(f"{method}: {error} (HTTP {response.status_code})")
