"""Slack's HTTP endpoint: authenticate the raw bytes first, then parse, then hand the request to Bolt.

Bolt's WSGI adapter decodes and parses a body (``payload=…`` JSON, the envelope's team and
user) before its middleware checks the signature, so an unsigned body that is not UTF-8 or
not JSON raised out of the app (500 with a traceback) before anyone was authenticated.
``SlackEdge`` replaces that adapter for ``POST /slack/events``:

1. the declared length is checked: missing or not a number → 400, over ``max_body`` → 413
   (nothing is read);
2. the signature is checked on the raw bytes (Slack's v0 scheme: HMAC-SHA256 of
   ``v0:{timestamp}:{body}`` with the signing secret, compared in constant time; timestamp
   within 5 minutes). A missing signature, a timestamp header that is not 1 to 12 ASCII
   digits, a stale timestamp or a wrong signature → 401. (``slack_sdk``'s
   ``SignatureVerifier`` decodes the body as UTF-8 before hashing and raises on other bytes,
   and its ``int(timestamp)`` takes any script's digits: the scheme is four lines of ``hmac``.)
3. only then is the body decoded and parsed: not UTF-8, not a JSON object, or holding a
   string (key or value, at any depth) that is not Unicode scalar text (a lone surrogate such
   as ``"\\ud800"`` in JSON) → 400;
4. Bolt dispatches the request with the body parsed here: every body is parsed once, by us
   (Bolt's own ``parse_body`` returns ``{}`` for any form whose text merely contains the word
   "payload", so ``/request … note=payload`` vanished). Bolt still checks the signature on the
   same raw bytes: same answer.

Each answer is encoded so that it never raises (an unencodable character becomes "?").

Each refusal is one log line (no traceback) and a short plain-text answer. Slack's own
reference: https://api.slack.com/authentication/verifying-requests-from-slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.context.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

log = logging.getLogger("signoff.http")

#: Slack's window for a request's timestamp (its documentation: five minutes).
MAX_SKEW_SECONDS = 5 * 60
#: A timestamp header Signoff reads: whole seconds in ASCII digits (int() would also take "١٢" or " 12").
TIMESTAMP = re.compile(r"[0-9]{1,12}")
#: A Content-Length header: ASCII digits only (RFC 9110 §8.6), any number of leading zeros.
LENGTH = re.compile(r"[0-9]+")

StartResponse = Callable[..., Any]


class Refused(Exception):
    """A request answered without reaching Bolt: ``status`` and the reason, logged and answered."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SlackEdge:
    """The WSGI app for ``path``: authenticate, bound, parse, then ``bolt.dispatch`` (see the module docstring)."""

    def __init__(
        self,
        bolt: App,
        *,
        signing_secret: str,
        max_body: int,
        path: str = "/slack/events",
        now: Callable[[], float] = time.time,
    ):
        self.bolt = bolt
        self.path = path
        self.max_body = max_body
        self._now = now
        if not signing_secret.strip():
            raise ValueError("a blank signing secret would accept requests signed by anyone who guesses it")
        self._secret = signing_secret.encode("utf-8")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != self.path:
            return _answer(start_response, 404, "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, "Slack posts to this address")
        try:
            request = self.authenticated(environ)
        except Refused as refused:
            log.warning("refused a Slack request (%d): %s", refused.status, refused.reason)
            return _answer(start_response, refused.status, refused.reason)
        response = self.bolt.dispatch(request)
        body = _encoded(response.body)
        headers = [(k, v) for k, values in response.headers.items() if k.lower() != "content-length" for v in values]
        start_response(_status_line(response.status), [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def authenticated(self, environ: dict[str, Any]) -> BoltRequest:
        """The request as Bolt reads it, once its length, signature and shape passed. Raises ``Refused``."""
        length = self._length(environ)
        raw = environ["wsgi.input"].read(length) if length else b""
        if len(raw) != length:
            raise Refused(400, f"the body ended after {len(raw)} of {length} bytes")
        headers = _headers(environ)
        self._verify(raw, headers)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "the body is not UTF-8 text") from None
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        body = parse_body(text, content_type)
        unreadable = _not_scalar_text(body)
        if unreadable is not None:
            raise Refused(400, f"the {_kind(body)} holds {unreadable}, which is not Unicode text")
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        try:
            # Built empty, then given our parse: Bolt's own would read some bodies differently (module docstring).
            request = BoltRequest(body="", query=environ.get("QUERY_STRING", ""), headers=bolt_headers)
            request.raw_body = text  # what Bolt's signature check hashes
            request.body = body
            request.context = build_context(BoltContext({}), body)
        except Exception as exc:  # Bolt reads the envelope (team, user, channel) from a body of any shape
            raise Refused(400, f"the {_kind(body)} could not be read ({exc.__class__.__name__})") from None
        return request

    def _length(self, environ: dict[str, Any]) -> int:
        declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not LENGTH.fullmatch(declared):
            raise Refused(400, "Content-Length is not a number of bytes")
        digits = declared.lstrip("0")
        # Bounded by value, not by prefix: more digits than max_body has is more than max_body.
        length = int(digits or "0") if len(digits) <= len(str(self.max_body)) else self.max_body + 1
        if length > self.max_body:
            raise Refused(413, f"the body is larger than {self.max_body} bytes")
        return length

    def _verify(self, raw: bytes, headers: dict[str, str]) -> None:
        stamp = headers.get("x-slack-request-timestamp")
        signature = headers.get("x-slack-signature")
        if not stamp or not signature:
            raise Refused(401, "the request is not signed (X-Slack-Signature and X-Slack-Request-Timestamp)")
        if not TIMESTAMP.fullmatch(stamp):
            raise Refused(401, "X-Slack-Request-Timestamp is not a time in seconds")
        if abs(self._now() - int(stamp)) > MAX_SKEW_SECONDS:
            raise Refused(401, "X-Slack-Request-Timestamp is more than 5 minutes from now")
        expected = hmac.new(self._secret, b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"v0={expected}".encode(), signature.encode("utf-8", "replace")):
            raise Refused(401, "the signature does not match this app's signing secret")


def parse_body(text: str, content_type: str) -> dict[str, Any]:
    """The body as Bolt will read it: a JSON object, or a form whose ``payload`` is one. Raises ``Refused`` (400).

    Bolt reads JSON when the content type says so or the body starts with ``{``; a form with a
    ``payload`` field carries a JSON interaction; any other form is a slash command's fields.
    """
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text, "JSON body")
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text and "payload" in form:
        return _json_object(form["payload"], "payload")
    return form


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"the {what} is not a JSON object")
    return value


def _not_scalar_text(body: dict[str, Any]) -> str | None:
    """The first string in ``body`` (keys and values, at any depth) that UTF-8 cannot encode, described; else None.

    Only JSON can carry one (``"\\ud800"``, a lone surrogate): a decoded UTF-8 body cannot.
    """
    pending: list[object] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"U+{ord(value[exc.start]):04X} (a lone surrogate)"
    return None


def _encoded(text: str) -> bytes:
    """``text`` as UTF-8; a character UTF-8 cannot hold (a lone surrogate) becomes "?" instead of raising."""
    return text.encode("utf-8", "replace")


def _kind(body: dict[str, Any]) -> str:
    kind = body.get("command") or body.get("type")
    return f"{kind} request" if isinstance(kind, str) and kind.isprintable() and len(kind) < 40 else "request"


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = str(value)
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = str(value)
    return headers


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _answer(start_response: StartResponse, status: int, text: str) -> list[bytes]:
    body = _encoded(text)
    start_response(
        _status_line(status), [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]
