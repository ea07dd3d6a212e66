"""The HTTP API's WSGI edge under ``/api/v1/`` (DESIGN §9): route, authenticate, bound, parse, answer JSON.

For every request, in order:

1. the path picks a route (unknown → 404) and the method must be one it takes (405 with ``Allow``);
2. except for ``openapi.json``, ``Authorization: Bearer <token>`` must name a client of the
   governance in force (``bot.domain.api_clients.authenticate``); otherwise 401 with
   ``WWW-Authenticate: Bearer``. Slack's signature headers are not credentials here: a request
   carrying only them is 401 like any other;
3. a body's declared length over ``max_body`` is 413 before a byte is read; then it must be
   UTF-8 JSON holding an object, without lone surrogates, NaN or Infinity (400);
4. the route runs under an answer deadline (``bot.answer_deadline``, ``answer_seconds``): a unit
   of work that would commit past it stores nothing and the answer is 503 with ``Retry-After``.

Every answer is JSON; errors are ``{"error": "…", "errors": [{"field", "message"}]?}``. An
unexpected failure is logged with an id and answered 500 with that id, never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from bot.answer_deadline import answer_deadline
from bot.domain.api_clients import authenticate
from bot.domain.contracts import ContractError
from bot.domain.errors import SignoffError
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import ApiClientSpec
from bot.services.runtime import Runtime
from handlers import api
from handlers.api import Answer, Refusal, refusal_of
from handlers.api_models import Problem
from handlers.api_openapi import openapi_document

log = logging.getLogger("signoff.api")

PREFIX = "/api/v1"
#: How long an API call may take, in seconds: past it nothing is stored and the answer is 503.
API_ANSWER_SECONDS = 5.0
#: A Content-Length header: ASCII digits only (RFC 9110 §8.6).
LENGTH = re.compile(r"[0-9]+")
#: ``Idempotency-Key``: 1 to 200 printable ASCII characters (a UUID fits); stored as ``api:<client>:<key>``.
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,200}")
#: RFC 6750 §2.1: ``Bearer`` (any case), one space or more, then the token.
BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *")
CHALLENGE = 'Bearer realm="signoff"'

StartResponse = Callable[..., Any]


class ApiEdge:
    """The WSGI app for ``/api/v1/…`` (see the module docstring). ``runtime`` should be the interactive one
    (bounded database waits); clients are read from the governance in force, so a reload takes effect at once."""

    def __init__(self, runtime: Runtime, *, max_body: int, answer_seconds: float = API_ANSWER_SECONDS):
        self.runtime = runtime
        self.max_body = max_body
        self.answer_seconds = answer_seconds

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        try:
            answer = self._answer(environ, started)
        except Refusal as refusal:
            answer = refusal.answer()
            if refusal.status < 500:
                log.info("API %s %s refused %d: %s", _method(environ), _path(environ), refusal.status, refusal.message)
        except Exception:  # the caller gets an id to quote, never a traceback
            incident = uuid.uuid4().hex[:8]
            log.exception("API error %s on %s %s", incident, _method(environ), _path(environ))
            failed = f"something went wrong on our side (error {incident}); nothing is known to be stored"
            answer = Refusal(500, failed).answer()
        return _send(start_response, answer)

    def _answer(self, environ: dict[str, Any], started: float) -> Answer:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", ""))
        methods, ref = _route(path)
        if method not in methods:
            allow = ", ".join(methods)
            raise Refusal(405, f"{path} takes {allow}", headers=(("Allow", allow),))
        if path == f"{PREFIX}/openapi.json":
            return Answer(200, openapi_document())
        client = self._client(environ)
        body = self._body(environ) if method == "POST" else None
        with answer_deadline(lambda: started + self.answer_seconds - time.monotonic()):
            try:
                return self._run(environ, method, path, ref, client, body)
            except ContractError as exc:
                raise refusal_of(exc) from None
            except (SignoffError, UnknownKind) as exc:
                raise refusal_of(exc, in_query=method == "GET") from None

    def _run(
        self, environ: dict[str, Any], method: str, path: str, ref: str | None, client: ApiClientSpec, body: object
    ) -> Answer:
        if ref is not None:
            return api.read_request(self.runtime, client, ref)
        if path == f"{PREFIX}/explain":
            return api.explain(self.runtime, client, body)
        if method == "GET":
            return api.list_requests(self.runtime, client, str(environ.get("QUERY_STRING", "")))
        return api.file_request(self.runtime, client, body, _idempotency_key(environ))

    def _client(self, environ: dict[str, Any]) -> ApiClientSpec:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not header:
            slack = "HTTP_X_SLACK_SIGNATURE" in environ
            why = "; Slack signatures are not accepted here" if slack else ""
            raise Refusal(401, f"send Authorization: Bearer <token>{why}", headers=(("WWW-Authenticate", CHALLENGE),))
        match = BEARER.fullmatch(header)
        client = authenticate(self.runtime.governance().spec.api_clients, match.group(1)) if match else None
        if client is None:
            challenge = f'{CHALLENGE}, error="invalid_token"'
            raise Refusal(
                401,
                "the bearer token is not one of this Signoff's API clients (api_clients in the governance file)",
                headers=(("WWW-Authenticate", challenge),),
            )
        return client

    def _body(self, environ: dict[str, Any]) -> object:
        declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not LENGTH.fullmatch(declared):
            raise Refusal(400, "Content-Length is not a number of bytes")
        digits = declared.lstrip("0")
        # Bounded by value, not by prefix: more digits than max_body has is more than max_body.
        length = int(digits or "0") if len(digits) <= len(str(self.max_body)) else self.max_body + 1
        if length > self.max_body:
            raise Refusal(413, f"the body is larger than {self.max_body} bytes")
        raw = environ["wsgi.input"].read(length) if length else b""
        if len(raw) != length:
            raise Refusal(400, f"the body ended after {len(raw)} of {length} bytes")
        return read_json(raw)


def read_json(raw: bytes) -> object:
    """The body as JSON text holding an object; ``Refusal`` (400) saying what it is instead."""
    if not raw.strip():
        raise Refusal(400, "the body is empty: send a JSON object (Content-Type: application/json)")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise Refusal(400, f"the body is not JSON ({str(exc)[:120]})") from None
    if not isinstance(value, dict):
        raise Refusal(400, f"the body is a JSON {_json_type(value)}: send a JSON object")
    surrogate = _lone_surrogate(value)
    if surrogate is not None:
        raise Refusal(400, f"the body holds U+{surrogate:04X} (a lone surrogate), which is not Unicode text")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _lone_surrogate(value: object) -> int | None:
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return ord(item[exc.start])
    return None


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _route(path: str) -> tuple[tuple[str, ...], str | None]:
    """The methods ``path`` takes and, for one request's path, the id as written; 404 ``Refusal`` otherwise."""
    if path in (f"{PREFIX}/requests", f"{PREFIX}/requests/"):
        return ("GET", "POST"), None
    if path.startswith(f"{PREFIX}/requests/") and "/" not in path[len(PREFIX) + 10 :]:
        return ("GET",), path[len(PREFIX) + 10 :]
    if path == f"{PREFIX}/explain":
        return ("POST",), None
    if path == f"{PREFIX}/openapi.json":
        return ("GET",), None
    raise Refusal(404, f"there is nothing at {path[:80]} (see {PREFIX}/openapi.json)")


def _idempotency_key(environ: dict[str, Any]) -> str | None:
    key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(str(key)):
        message = "must be 1 to 200 printable ASCII characters without spaces (a UUID, say)"
        raise Refusal(400, f"Idempotency-Key {message}", [Problem(field="Idempotency-Key", message=message)])
    return str(key)


def _method(environ: dict[str, Any]) -> str:
    return str(environ.get("REQUEST_METHOD", ""))[:10]


def _path(environ: dict[str, Any]) -> str:
    """The path for a log line, cut short (the log formatters escape control characters)."""
    return str(environ.get("PATH_INFO", ""))[:100]


def _send(start_response: StartResponse, answer: Answer) -> list[bytes]:
    body = json.dumps(answer.body, separators=(",", ":")).encode()
    try:
        status = f"{answer.status} {HTTPStatus(answer.status).phrase}"
    except ValueError:
        status = f"{answer.status} Unknown"
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *answer.headers]
    start_response(status, headers)
    return [body]
