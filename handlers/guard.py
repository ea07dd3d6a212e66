"""The one place a failed Slack call inside a listener is caught, and told to the person in a sentence.

Bolt answers Slack with whatever a listener acknowledged, but when the listener raises after
its ``ack()``, Bolt throws the acknowledgement away and Slack gets no answer within 3 s (a
click then shows an error). ``GuardedApp`` registers every listener wrapped so that a Web API
failure (``views.open`` on an expired trigger, ``chat.postEphemeral``, ``users.info`` …) never
escapes: Slack is acknowledged (at once, if the listener had not yet) and the person is told
what did not work and what to do, by the ``response_url``, an ephemeral message, or a DM.
Any other error after the ack is logged with an id the person is given, for the same reason.

A *quiet* listener (the form's live preview: Slack calls it on every keystroke) tells the person
nothing, whatever fails: one message per keystroke would be noise, and submitting the form tells
them what matters. It logs each failure once instead — a stale or closed form (``hash_conflict``,
``not_found``) at debug, any other Slack failure at warning with its error code — and a failed
Web API call is counted in ``signoff_slack_api_errors`` by the client as always.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.kwargs_injection.args import Args
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk.errors import SlackApiError

from bot.domain.errors import SignoffError
from bot.domain.fields import is_user_id
from bot.domain.governance import UnknownKind
from bot.slack.modals import notice_view
from bot.slack.observed import describe_request, error_code
from handlers.payloads import BadPayload, dig
from handlers.refusals import SLACK_FAILURES, refusal_plain, refusal_text
from handlers.replies import unknown_kind

#: Slack shows at most this many characters of a form's error under an input.
MAX_FORM_ERROR = 2000

log = logging.getLogger("signoff.slack")

Listener = Callable[..., Any]

_FORM_METHODS = {"views.open": "open", "views.push": "open", "views.update": "update"}
#: What a quiet listener's update meets in the ordinary course: a newer keystroke updated the form
#: first (``hash_conflict``), or the person closed it (``not_found``). Nothing went wrong.
_PASSED_OVER = frozenset({"hash_conflict", "not_found"})


class Tell(Exception):
    """What a listener has to say to the person; the guard delivers it where they are (see ``answer``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class GuardedApp:
    """The parts of a Bolt ``App`` the handlers register with; every listener is guarded."""

    def __init__(self, app: App):
        self.app = app

    def command(self, name: str) -> Callable[[Listener], Listener]:
        return self._wrap(self.app.command(name))

    def action(self, action_id: str, *, quiet: bool = False) -> Callable[[Listener], Listener]:
        """``quiet``: failures are logged, never told to the person (see the module's docstring)."""
        return self._wrap(self.app.action(action_id), quiet=quiet)

    def view(self, callback_id: str) -> Callable[[Listener], Listener]:
        return self._wrap(self.app.view(callback_id))

    def event(self, event_type: str) -> Callable[[Listener], Listener]:
        return self._wrap(self.app.event(event_type))

    @staticmethod
    def _wrap(register: Callable[[Listener], Any], *, quiet: bool = False) -> Callable[[Listener], Listener]:
        def decorator(listener: Listener) -> Listener:
            register(guarded(listener, quiet=quiet))
            return listener

        return decorator


def guarded(listener: Listener, *, quiet: bool = False) -> Listener:
    """``listener`` run with Bolt's arguments; a failed Slack call in it is answered, never raised.
    ``quiet``: nothing is answered but the acknowledgement; each failure is logged once."""
    names = get_arg_names_of_callable(listener)

    def run(args: Args) -> None:
        if quiet:
            _quietly(args, lambda: listener(**{name: getattr(args, name) for name in names}))
            return
        try:
            listener(**{name: getattr(args, name) for name in names})
        except SLACK_FAILURES as exc:
            tell_person(args, exc)
        except Tell as told:
            answer(args, told.message, plain=told.message)
        except BadPayload as exc:
            log.warning("ignored a Slack %s: %s", _what(args.body), exc.detail)
            answer(args, f":warning: {exc.message}", plain=exc.message)
        except SignoffError as exc:  # a refusal the listener left to us (StorageBusy, say): it is not a bug
            answer(args, refusal_text(exc), plain=refusal_plain(exc, args.client))
        except UnknownKind as exc:
            answer(args, unknown_kind(exc.name, exc.known), plain=str(exc))
        except Exception as exc:
            if args.ack.response is None:
                raise  # not yet acknowledged: the app's error handler answers Slack
            _unexpected_after_ack(args, exc)

    run.__name__ = run.__qualname__ = getattr(listener, "__name__", "listener")
    return run


def _quietly(args: Args, call: Callable[[], None]) -> None:
    """Run ``call``; log what fails in it (once, never to the person) and acknowledge Slack if it had not."""
    try:
        call()
    except SLACK_FAILURES as exc:
        method, code = describe(exc)[0], error_code(exc)
        level = logging.DEBUG if code in _PASSED_OVER else logging.WARNING
        log.log(level, "Slack refused %s (%s) while handling %s; not told", method, code, _what(args.body))
    except (Tell, BadPayload, SignoffError, UnknownKind) as exc:
        log.warning("%s while handling %s; not told: %s", exc.__class__.__name__, _what(args.body), exc)
    except Exception as exc:
        log.error("error while handling %s; not told", _what(args.body), exc_info=exc)
    if args.ack.response is None:
        args.ack()


def tell_person(args: Args, exc: Exception) -> None:
    """Acknowledge Slack if the listener had not, then tell the person what failed (best effort)."""
    method, error = describe(exc)
    body = args.body or {}
    message = failure_message(method, error, again=_again(body))
    log.warning("Slack refused %s (%s) while handling %s", method, error, _what(body))
    answer(args, message, plain=message)


def answer(args: Args, message: str, *, plain: str) -> None:
    """Tell the person ``message`` (mrkdwn), in the acknowledgement if it is not sent yet, else afterwards.

    A form shows ``plain`` next to its first input (Slack shows no mrkdwn there); a form with no
    input is replaced by a view saying it. A command's acknowledgement is the message; anything
    else is acknowledged empty and told by ``response_url``, an ephemeral message or a DM.
    """
    body = args.body or {}
    if args.ack.response is None:
        if body.get("type") == "view_submission":
            blocks = dig(body, "view", "state", "values")
            first = next(iter(blocks), None) if isinstance(blocks, dict) else None
            if first is not None:
                args.ack(response_action="errors", errors={first: plain[:MAX_FORM_ERROR]})
            else:
                args.ack(response_action="update", view=notice_view(plain))
            return
        if body.get("command"):
            args.ack(text=message)
            return
        args.ack()
    try:
        _deliver(args, body, message)
    except SLACK_FAILURES as again:
        log.warning("could not tell the person either (%s)", describe(again)[1])
    except ValueError as again:  # a response_url that is no URL (urllib: "unknown url type")
        log.warning("could not tell the person either (%s)", again)


def _deliver(args: Args, body: dict[str, Any], message: str) -> None:
    user = args.context.user_id if is_user_id(args.context.user_id) else None  # never to an id of another shape
    channel = args.context.channel_id if isinstance(args.context.channel_id, str) else None
    if args.respond is not None and isinstance(body.get("response_url"), str):
        args.respond(text=message, response_type="ephemeral", replace_original=False)
    elif user and channel:
        args.client.chat_postEphemeral(channel=channel, user=user, text=message)
    elif user and body.get("type") in ("block_actions", "view_submission", "shortcut"):
        args.client.chat_postMessage(channel=user, text=message)  # Home tab or a modal: their DM with Signoff


def _unexpected_after_ack(args: Args, exc: Exception) -> None:
    """A bug after the ack: raising would make Bolt drop the ack, so log it and tell the person here."""
    error_id = uuid.uuid4().hex[:8]
    body = args.body or {}
    log.error("error %s while handling %s", error_id, _what(body), exc_info=exc)
    text = f":warning: Something went wrong on our side (error `{error_id}`). Please try again."
    try:
        _deliver(args, body, text)
    except SLACK_FAILURES as again:
        log.warning("could not tell the person either (%s)", describe(again)[1])


def describe(exc: Exception) -> tuple[str, str]:
    """The Web API method that failed and Slack's error code (or the transport failure)."""
    if isinstance(exc, SlackApiError):
        url = str(getattr(exc.response, "api_url", "") or "")
        method = url.rsplit("/", 1)[-1] or "a Slack call"
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {exc.response.status_code}")
        return method, error
    return "a Slack call", "Slack could not be reached" if isinstance(exc, URLError | TimeoutError) else str(exc)


def failure_message(method: str, error: str, *, again: str) -> str:
    """What the person reads: what did not work, in Signoff's words, and what to do now.

    ``again`` is how to retry ("run /request again", "click the button again").
    """
    if method in _FORM_METHODS:
        verb = _FORM_METHODS[method]
        if error == "expired_trigger_id":
            return f":warning: The form could not {verb} because Slack's trigger expired — {again}."
        return f":warning: The form could not {verb}: Slack answered `{error}`. Nothing was changed; {again}."
    if method == "users.info":
        return f":warning: Signoff could not look the person up in Slack (`{error}`); {again}."
    if method == "chat.postEphemeral":
        return f":warning: Signoff could not answer in this conversation (`{error}`); {again}."
    return f":warning: Slack refused `{method}` (`{error}`), so this did not finish; {again}."


def _again(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"run {body['command']} again"
    if body.get("type") == "view_submission":
        return "submit the form again"
    if body.get("type") == "block_actions":
        return "click the button again"
    return "please try again"


def _what(body: dict[str, Any] | None) -> str:
    return describe_request(body if isinstance(body, dict) else {})
