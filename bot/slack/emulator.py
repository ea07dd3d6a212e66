"""A local Slack Web API for tests and demos: no workspace, no network beyond loopback.

Point a ``WebClient`` (or ``SIGNOFF_SLACK_API_URL``) at ``emulator.api_url``. The emulator

- answers the Web API methods Signoff calls (chat, conversations.open, conversations.history,
  views, users.info, auth.test) and ``response_url`` posts, keeping the messages (with their
  ``metadata``) and views it was given; message timestamps follow the wall clock, as Slack's do;
  modals keep a ``hash`` (a stale ``views.update`` is ``hash_conflict``) and what the person entered
  (``enter``, ``submission``: ``bot.slack.emulator_views``);
- knows channels the bot cannot post in (``channel_errors``: channel → ``not_in_channel``,
  ``is_archived``, ``channel_not_found``, …), answered to posts, updates and history reads there;
- checks every call the way Slack does: the method must exist in Slack's published Web API
  description, required arguments must be present (``invalid_arguments``), the token must
  look like one (``not_authed`` / ``invalid_auth``), and Block Kit limits must hold
  (``invalid_blocks``: 50 blocks per message, 100 per view, 3000 characters per section
  text, 75 per button text, 2000 per button value, 255 per action_id, 24 per modal title);
- records every call, and lets a test wait for calls with a bounded wait;
- injects faults on demand: HTTP 429 with ``Retry-After``, 5xx, slow answers, or any Slack
  error (``invalid_auth``, ``channel_not_found``, …), for a number of calls;
- runs a test's hook after a call took effect and before it is answered (``on_call``): for
  example, kill the caller right after Slack accepted a post.

``metadata`` and ``include_all_metadata`` are newer than the published description; they are
checked and honoured as Slack documents them. So is the file upload flow of ``files_upload_v2``
(``files.getUploadURLExternal``, a POST of the bytes to the upload URL it gives — on this
server; faults for it are injected as method ``upload`` —, then ``files.completeUploadExternal``):
see ``bot.slack.emulator_files``; shared files are kept with their bytes (``files_in``).

It is a supported module: use it in your own tests as ``with SlackEmulator() as slack: …``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from bot.slack.emulator_files import FileUploads, SlackFile, shown_files
from bot.slack.emulator_history import history_page, valid_metadata
from bot.slack.emulator_http import handler_for
from bot.slack.emulator_spec import (
    Call,
    Fault,
    Message,
    block_problems,
    call_block_problems,
    web_api_methods,
)
from bot.slack.emulator_views import ModalViews
from bot.slack.socket_mode_emulator import SocketModeEmulator


class SlackEmulator:
    """A Slack Web API on 127.0.0.1, in a background thread. Use as a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_user: str = "U0SIGNOFF",
        team: str = "T0EMULATOR",
        socket_mode: SocketModeEmulator | None = None,
    ):
        self.socket_mode = socket_mode
        self.bot_user = bot_user
        self.team = team
        self.calls: list[Call] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        #: Open modals with their hash and input state (``bot.slack.emulator_views``).
        self.modals = ModalViews()
        self.user_timezones: dict[str, str] = {}
        #: Users whose users.info says ``deleted: true`` (deactivated in the workspace).
        self.deactivated_users: set[str] = set()
        self.channel_errors: dict[str, str] = {}
        self.uploads = FileUploads()
        self._faults: dict[str, list[Fault]] = {}
        self._hooks: dict[str, list[tuple[Callable[[Call], bool], Callable[[Call], None]]]] = {}
        self._last_ts = 0.0
        self._used_triggers: set[str] = set()
        self._condition = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, with its trailing slash, for ``WebClient(base_url=…)``."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str = "cmd") -> str:
        return f"{self.base_url}/response/{key}"

    def start(self) -> SlackEmulator:
        if self.socket_mode is not None:
            self.socket_mode.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests use --------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a fault (429 needs ``retry_after``)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._condition:
            self._faults.setdefault(method, []).append(Fault(status, error, retry_after, delay, times))

    def on_call(
        self, method: str, hook: Callable[[Call], None], *, when: Callable[[Call], bool] = lambda call: True
    ) -> None:
        """Run ``hook(call)`` once, for the first successful ``method`` call that ``when`` accepts.

        It runs after the call took effect (a post is stored) and before the answer is sent.
        """
        with self._condition:
            self._hooks.setdefault(method, []).append((when, hook))

    def clear_faults(self) -> None:
        """Slack recovers: every queued fault is dropped."""
        with self._condition:
            self._faults.clear()

    def calls_to(self, method: str, *, ok: bool | None = True) -> list[Call]:
        with self._condition:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def wait_for(self, predicate: Callable[[SlackEmulator], bool], *, timeout: float = 10.0) -> bool:
        """Wait until ``predicate(self)`` holds (re-checked at every call), at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def files_in(self, channel: str) -> list[SlackFile]:
        """Files shared into ``channel`` (with their bytes), in upload order."""
        return self.uploads.shared_in(channel)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Open modals by view id, each with its ``id``, ``hash`` and ``state``."""
        return self.modals.views

    def enter(self, view_id: str, block_id: str, value: Any, *, user: str) -> dict[str, Any] | None:
        """A person enters ``value`` in a modal's input (``ModalViews.enter``): Slack's payload, if any."""
        return self.modals.enter(view_id, block_id, value, user=user)

    def messages_in(self, channel: str | None = None) -> list[Message]:
        """Messages posted in ``channel`` (None: anywhere), oldest first."""
        with self._condition:
            return [m for (c, _), m in self.messages.items() if channel is None or c == channel]

    # -- the Web API -----------------------------------------------------------------------------

    def record_response(self, key: str, args: dict[str, Any]) -> None:
        """A post to a ``response_url`` (``bot.slack.emulator_http``)."""
        with self._condition:
            self.responses.append((key, args))
            self._condition.notify_all()

    def receive_upload(self, file_id: str, body: bytes, content_type: str) -> tuple[int, str]:
        """A POST of a file's bytes to its upload URL (HTTP status, text), recorded as a call of method ``upload``."""
        fault = self._next_fault("upload")
        if fault is not None and (fault.status != 200 or fault.error):
            status, text = fault.status, fault.error or "upload failed"
        else:
            status, text = self.uploads.receive(file_id, body, content_type)
        with self._condition:
            self.calls.append(Call("upload", {"file_id": file_id, "bytes": len(body)}, status == 200, None, status))
            self._condition.notify_all()
        return status, text

    def answer_call(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        fault = self._next_fault(method)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # a slow Slack, on purpose: the caller's timeout is under test
        headers: dict[str, str] = {}
        if fault is not None and (fault.status != 200 or fault.error):
            # A refused call has no effect: nothing is posted, updated or opened.
            status = fault.status
            payload = {"ok": False, "error": fault.error or ("ratelimited" if status == 429 else "fatal_error")}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        else:
            status, payload = 200, self._call(method, args, token)
        with self._condition:
            error = payload.get("error")
            call = Call(method, args, bool(payload.get("ok")), str(error) if error else None, status)
            self.calls.append(call)
            self._condition.notify_all()
            hook = self._take_hook(call) if call.ok else None
        if hook is not None:
            hook(call)
        return status, payload, headers

    def _take_hook(self, call: Call) -> Callable[[Call], None] | None:
        hooks = self._hooks.get(call.method, [])
        for index, (when, hook) in enumerate(hooks):
            if when(call):
                hooks.pop(index)
                return hook
        return None

    def _next_fault(self, method: str) -> Fault | None:
        with self._condition:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _call(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        methods = web_api_methods()
        if method not in methods:
            return {"ok": False, "error": "unknown_method"}
        if not token:
            return {"ok": False, "error": "not_authed"}
        app_level = method == "apps.connections.open"
        if not token.startswith(("xapp-",) if app_level else ("xoxb-", "xoxp-")):
            return {"ok": False, "error": "not_allowed_token_type" if app_level else "invalid_auth"}
        missing = sorted(name for name in methods[method] if args.get(name) in (None, ""))
        if missing:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"missing {m}" for m in missing]},
            }
        problems = call_block_problems(args)
        if problems:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        return handler(args) if handler is not None else {"ok": True}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_mode.url}

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://emulator.slack.test/",
            "team": "Emulator",
            "user": "signoff",
            "team_id": self.team,
            "user_id": self.bot_user,
            "bot_id": "B0SIGNOFF",
        }

    def _next_ts(self) -> str:
        """A message timestamp: the wall clock in microseconds, unique and increasing."""
        with self._condition:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        if channel in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[channel]}
        metadata = args.get("metadata")
        if metadata is not None and not valid_metadata(metadata):
            return {"ok": False, "error": "invalid_metadata_format"}
        ts = self._next_ts()
        message = Message(channel, ts, str(args.get("text", "")), list(args.get("blocks") or []), metadata=metadata)
        with self._condition:
            self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text, "ts": ts}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.uploads.ticket(args, base_url=self.base_url)

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel_id") or "")
        if channel in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[channel]}
        answer, shared = self.uploads.complete(args)
        if shared:  # a file share is a message in the conversation, its text the comment
            text, blocks = str(args.get("initial_comment") or ""), list(args.get("blocks") or [])
            message = Message(channel, self._next_ts(), text, blocks, files=shown_files(shared))
            with self._condition:
                self.messages[(channel, message.ts)] = message
        return answer

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[channel]}
        with self._condition:
            messages = [m for (c, _), m in self.messages.items() if c == channel]
        return history_page(messages, args, bot_user=self.bot_user)

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args["channel"]), str(args["ts"]))
        if key[0] in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[key[0]]}
        with self._condition:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.text = str(args.get("text", message.text))
            message.blocks = list(args.get("blocks") or [])
            message.updates += 1
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        first = users.split(",")[0]
        if not first.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + first[1:]}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user") or "")
        if not user.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        tz = self.user_timezones.get(user, "Europe/Berlin")
        deleted = user in self.deactivated_users
        return {"ok": True, "user": {"id": user, "name": user.lower(), "tz": tz, "is_bot": False, "deleted": deleted}}

    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id"))
        with self._condition:
            if trigger in self._used_triggers:
                return {"ok": False, "error": "invalid_trigger_id"}
            self._used_triggers.add(trigger)
        return {"ok": True, "view": self.modals.open(args["view"])}

    _m_views_open = _m_views_push = _open_view

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        seen = args.get("hash")
        view, error = self.modals.update(
            str(args.get("view_id") or ""), dict(args.get("view") or {}), str(seen) if seen else None
        )
        return {"ok": True, "view": view} if error is None else {"ok": False, "error": error}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._condition:
            self.home_views[str(args["user_id"])] = args["view"]
        return {"ok": True, "view": args["view"]}


__all__ = ["Call", "SlackEmulator", "block_problems", "web_api_methods"]
