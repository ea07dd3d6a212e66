"""Outbound Slack for the outbox relay: cards, card updates and DMs through the Web API.

Failures become ``DeliveryError``s the relay understands: a 429 carries Slack's
``Retry-After``; errors that will not go away by retrying (the channel is gone, the bot is
not in it, the user left) are permanent; everything else (5xx, timeouts, connection errors)
is retried with backoff. Errors that mean the bot cannot post in that channel at all are
also ``unreachable``, so the relay can send the card elsewhere.

Every post carries its outbox idempotency key in the message ``metadata`` (event types
``signoff_card``, ``signoff_notice``, ``signoff_digest``, ``signoff_surface``; payload
``{"outbox_key": …}``), and ``find_posted`` looks for it with ``conversations.history``: how the
relay checks, before sending again, whether a delivery whose outcome it does not know reached
Slack. History needs ``channels:history``, ``groups:history`` and ``im:history`` (see
manifest.yml). The weekly summary's chart is uploaded with ``files_upload_v2`` (``files:write``)
and found again by its file name (``find_posted_file``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.error import HTTPError, URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.domain.cards import Card
from bot.domain.fields import USER_ID
from bot.domain.notices import Notification
from bot.domain.outbox import (  # noqa: F401  (re-exported)
    MAX_RETRY_AFTER_S,
    PERSON_GONE_ERRORS,
    DeliveryError,
    MessageRef,
    PersonInfo,
    retry_after_seconds,
)
from bot.domain.surface_summary import OwnerSurface
from bot.slack.blocks import card_blocks, card_text, digest_blocks
from bot.slack.messages import notification_blocks, notification_text
from bot.slack.observed import ErrorHook, ObservedWebClient
from bot.slack.surface_blocks import CHART_TITLE, surface_summary_blocks, surface_summary_text

log = logging.getLogger(__name__)

#: Errors that mean the bot cannot post in the channel itself (not a problem of the message).
CHANNEL_UNREACHABLE_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
#: How many pages of history (of HISTORY_PAGE messages) ``find_posted`` reads at most.
HISTORY_PAGES = 10
HISTORY_PAGE = 200

PERMANENT_ERRORS = frozenset(
    {
        *PERSON_GONE_ERRORS,
        "message_not_found",
        "cant_update_message",
        *CHANNEL_UNREACHABLE_ERRORS,
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

    def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
        channel = self._channel_for(recipient)
        response = self._call(
            "chat.postMessage",
            channel=channel,
            text=card_text(card),
            blocks=card_blocks(card, mentions=_is_dm(recipient)),
            unfurl_links=False,
            metadata=_metadata("signoff_card", key),
        )
        return MessageRef(str(response["channel"]), str(response["ts"]), recipient)

    def update_card(self, *, ref: MessageRef, card: Card, buttons: bool = True) -> None:
        """Re-render a posted copy; ``buttons`` False for a recipient who may no longer decide."""
        blocks = card_blocks(card, buttons=buttons, mentions=_is_dm(ref.recipient) or ref.channel.startswith("D"))
        self._call("chat.update", channel=ref.channel, ts=ref.ts, text=card_text(card), blocks=blocks)

    def notify(self, *, notification: Notification, card: Card | None, key: str = "") -> None:
        channel = self._channel_for(notification.user)
        self._call(
            "chat.postMessage",
            channel=channel,
            text=notification_text(notification),
            blocks=notification_blocks(notification, card),
            unfurl_links=False,
            metadata=_metadata("signoff_notice", key),
        )

    def send_digest(self, *, user: str, cards: list[Card], more: int, auto_resolved: int, key: str = "") -> None:
        channel = self._channel_for(user)
        text = f"{len(cards) + more} request{'s' if len(cards) + more != 1 else ''} wait on your decision."
        blocks = digest_blocks(cards, more=more, auto_resolved=auto_resolved)
        metadata = _metadata("signoff_digest", key)
        self._call("chat.postMessage", channel=channel, text=text, blocks=blocks, unfurl_links=False, metadata=metadata)

    def send_surface_summary(self, *, user: str, surface: OwnerSurface, week: str, key: str = "") -> None:
        """DM ``user`` their weekly decision-surface figures (``bot.slack.surface_blocks``)."""
        channel = self._channel_for(user)
        text, blocks = surface_summary_text(surface, week=week), surface_summary_blocks(surface, week=week)
        metadata = _metadata("signoff_surface", key)
        self._call("chat.postMessage", channel=channel, text=text, blocks=blocks, unfurl_links=False, metadata=metadata)

    def share_surface_chart(self, *, user: str, surface: OwnerSurface, filename: str) -> None:
        """Upload the share-by-week chart (a PNG) into ``user``'s DM with ``files_upload_v2``.

        The DM's channel id comes from conversations.open (files go to conversations, not users).
        Upload failures are ``DeliveryError``s like a post's: a refused upload (HTTP 4xx/5xx from
        the upload URL, a 429 or Slack error from the API) is retried by the relay.
        """
        from bot.charts import share_by_week_png  # matplotlib loads with the first chart, not at start

        png = share_by_week_png(surface.month, kinds=surface.kind_names)
        channel = self._channel_for(user)
        try:
            self.client.files_upload_v2(channel=channel, content=png, filename=filename, title=CHART_TITLE)
        except SlackApiError as exc:
            raise _delivery_error("files_upload_v2", exc) from None
        except HTTPError as exc:
            exc.close()
            raise DeliveryError(f"files_upload_v2: the upload URL answered HTTP {exc.code}") from None
        except (SlackClientError, URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"files_upload_v2: {exc.__class__.__name__}: {exc}") from None

    def find_posted(self, *, recipient: str, key: str, since: datetime) -> MessageRef | None:
        """The message with outbox ``key`` in ``recipient``'s conversation since ``since``; None if absent.

        Reads at most HISTORY_PAGES pages of conversations.history (newest first, metadata
        included). A person's messages are in the DM the bot has with them. Raises
        ``DeliveryError`` as posting would (an unreachable channel, a rate limit); when the app
        lacks a history scope it cannot tell, logs the scope to add and answers None.
        """
        channel = self._channel_for(recipient)
        found = self._find(channel, key, since, lambda message: _outbox_key(message) == key)
        return MessageRef(channel, str(found["ts"]), recipient) if found is not None else None

    def find_posted_file(self, *, recipient: str, filename: str, since: datetime) -> bool:
        """Whether a file named ``filename`` was shared in ``recipient``'s conversation since ``since``.

        Reads history as ``find_posted`` does (False when it cannot tell).
        """
        channel = self._channel_for(recipient)

        def shares_it(message: dict[str, object]) -> bool:
            files = message.get("files")
            return isinstance(files, list) and any(isinstance(f, dict) and f.get("name") == filename for f in files)

        return self._find(channel, filename, since, shares_it) is not None

    def _find(
        self, channel: str, what: str, since: datetime, match: Callable[[dict[str, object]], bool]
    ) -> dict[str, object] | None:
        """The newest message of ``channel`` since ``since`` that ``match``es, reading at most HISTORY_PAGES pages."""
        cursor = ""
        for _ in range(HISTORY_PAGES):
            try:
                page = self._history(channel, oldest=f"{since.timestamp():.6f}", cursor=cursor)
            except DeliveryError as error:
                if error.code != "missing_scope":
                    raise
                log.warning("cannot check %s for %s: add the history scopes of manifest.yml", channel, what)
                return None
            messages = page.get("messages")
            for message in messages if isinstance(messages, list) else []:
                if isinstance(message, dict) and match(message):
                    return message
            metadata = page.get("response_metadata")
            cursor = str(metadata.get("next_cursor") or "") if isinstance(metadata, dict) else ""
            if not page.get("has_more") or not cursor:
                return None
        log.warning(
            "%s: no copy of %s in the newest %d messages; sending it", channel, what, HISTORY_PAGE * HISTORY_PAGES
        )
        return None

    def _history(self, channel: str, *, oldest: str, cursor: str) -> dict[str, object]:
        query: dict[str, object] = {"channel": channel, "oldest": oldest, "limit": HISTORY_PAGE}
        query |= {"include_all_metadata": "true", **({"cursor": cursor} if cursor else {})}
        return self._call("conversations.history", query=query)

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

    def _call(self, method: str, *, query: dict[str, object] | None = None, **arguments: object) -> dict[str, object]:
        """Call ``method`` with a JSON body, or with ``query`` as GET parameters (read methods)."""
        try:
            if query is not None:
                response = self.client.api_call(method, http_verb="GET", params=query)
            else:
                response = self.client.api_call(method, json={k: v for k, v in arguments.items() if v is not None})
        except SlackApiError as exc:
            raise _delivery_error(method, exc) from None
        except (SlackClientError, URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"{method}: {exc.__class__.__name__}: {exc}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}


def _metadata(event_type: str, key: str) -> dict[str, object] | None:
    """``metadata`` for chat.postMessage naming the outbox row; None (left out) without a key."""
    return {"event_type": event_type, "event_payload": {"outbox_key": key}} if key else None


def _outbox_key(message: dict[str, object]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or not str(metadata.get("event_type", "")).startswith("signoff_"):
        return None
    payload = metadata.get("event_payload")
    return str(payload.get("outbox_key")) if isinstance(payload, dict) else None


def _delivery_error(method: str, exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error") or "unknown_error") if isinstance(response.data, dict) else "unknown_error"
    if response.status_code == 429:
        header = response.headers.get("Retry-After", response.headers.get("retry-after"))
        # Unreadable: None, and the row backs off as after any failure (bot.domain.outbox.retry_after_seconds).
        retry_after = retry_after_seconds(header, now=datetime.now(UTC))
        return DeliveryError(f"{method}: ratelimited", retry_after=retry_after)
    if error in CHANNEL_UNREACHABLE_ERRORS:
        return DeliveryError(f"{method}: {error}", unreachable=True, code=error)
    if error in PERMANENT_ERRORS:
        return DeliveryError(f"{method}: {error}", permanent=True, code=error)
    return DeliveryError(f"{method}: {error} (HTTP {response.status_code})", code=error)


def _is_dm(recipient: str) -> bool:
    """Whether a card goes to one person's DM, where a user field's mention pings nobody else."""
    return USER_ID.fullmatch(recipient) is not None
