"""The HTTP API's WSGI edge under ``/api/v1/`` (DESIGN §9): route, authenticate, bound, parse, answer JSON.

For every request, in order:

1. the path picks a route (unknown → 404; paths are lowercase) and the method must be one it
   takes (405 with ``Allow``). ``OPTIONS`` is 204 with ``Allow``; ``HEAD`` is ``GET`` without
   the body (RFC 9110 §9.3.2, §9.3.7);
2. a query parameter the route does not take is 400, each named (a POST takes none);
3. except for ``openapi.json``, ``Authorization: Bearer <token>`` must name a client of the
   governance in force (``bot.domain.api_clients.authenticate``); otherwise 401 with
   ``WWW-Authenticate: Bearer`` (RFC 6750 §3: ``error="invalid_token"`` only when a bearer token
   was sent). Slack's signature headers are not credentials here;
4. a POST must say ``Content-Type: application/json`` (charset, if named, utf-8; else 415); a
   body's declared length over ``max_body`` is 413 before a byte is read; then it must be UTF-8
   JSON holding an object, without lone surrogates, NaN, Infinity or a key given twice (400).
   Number literals keep their text (``bot.domain.json_values``) for the strict value reader;
5. the route runs under an answer deadline (``bot.answer_deadline``, ``answer_seconds``): a unit
   of work that would commit past it stores nothing and the answer is 503 with ``Retry-After``.

Every answer is JSON; errors are ``{"error": "…", "errors": [{"field", "message"}]?}``. An
unexpected failure is logged with an id and answered 500 with that id, never a traceback. What
waitress refuses before the app runs (a body over the limit, a malformed request) is answered in
the same shape by ``bot.http_errors``.
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
from urllib.parse import unquote_plus

from bot.answer_deadline import answer_deadline
from bot.domain.api_clients import authenticate
from bot.domain.contracts import ContractError
from bot.domain.errors import SignoffError
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import ApiClientSpec
from bot.domain.json_values import NotJsonNumber, RepeatedKey, json_type, read_json_document
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
#: An Authorization header's scheme: the first word (RFC 9110 §11.4).
SCHEME = re.compile(r"\s*([!-~]+)")
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
        return _send(start_response, answer, head=environ.get("REQUEST_METHOD") == "HEAD")

    def _answer(self, environ: dict[str, Any], started: float) -> Answer:
        path = _path_text(environ)
        method = str(environ.get("REQUEST_METHOD", ""))
        methods, ref = _route(path)
        allow = ", ".join((*methods, "HEAD", "OPTIONS") if "GET" in methods else (*methods, "OPTIONS"))
        if method == "OPTIONS":
            return Answer(204, None, (("Allow", allow),))
        served = "GET" if method == "HEAD" else method
        if served not in methods:
            raise Refusal(405, f"{path[:80]} takes {allow}", headers=(("Allow", allow),))
        _no_unknown_query(str(environ.get("QUERY_STRING", "")), served, ref)
        if path == f"{PREFIX}/openapi.json":
            return Answer(200, openapi_document())
        client = self._client(environ)
        body = self._body(environ) if served == "POST" else None
        with answer_deadline(lambda: started + self.answer_seconds - time.monotonic()):
            try:
                return self._run(environ, served, path, ref, client, body)
            except ContractError as exc:
                raise refusal_of(exc) from None
            except (SignoffError, UnknownKind) as exc:
                raise refusal_of(exc, in_query=served == "GET") from None

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
        match = BEARER.fullmatch(header)
        if match is None:
            scheme = SCHEME.match(header)
            slack = "; Slack signatures are not accepted here" if "HTTP_X_SLACK_SIGNATURE" in environ else ""
            if scheme is None:
                why = f"send Authorization: Bearer <token>{slack}"
            elif scheme.group(1).lower() == "bearer":
                why = "send Authorization: Bearer <token>: the token is missing or has characters a token never has"
            else:  # RFC 6750 §3.1: no error code when the request carries no bearer token
                why = f"send Authorization: Bearer <token>, not the {scheme.group(1)[:20]} scheme"
            raise Refusal(401, why, headers=(("WWW-Authenticate", CHALLENGE),))
        client = authenticate(self.runtime.governance().spec.api_clients, match.group(1))
        if client is None:
            challenge = f'{CHALLENGE}, error="invalid_token"'
            raise Refusal(
                401,
                "the bearer token is not one of this Signoff's API clients (api_clients in the governance file)",
                headers=(("WWW-Authenticate", challenge),),
            )
        return client

    def _body(self, environ: dict[str, Any]) -> object:
        _json_content_type(str(environ.get("CONTENT_TYPE") or ""))
        declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not LENGTH.fullmatch(declared):
            raise Refusal(400, "Content-Length is not a number of bytes")
        digits = declared.lstrip("0")
        # Bounded by value, not by prefix: more digits than max_body has is more than max_body.
        length = int(digits or "0") if len(digits) <= len(str(self.max_body)) else self.max_body + 1
        if length > self.max_body:
            raise Refusal(413, f"the body is larger than {self.max_body} bytes (1 MiB); send at most that")
        raw = environ["wsgi.input"].read(length) if length else b""
        if len(raw) != length:
            raise Refusal(400, f"the body ended after {len(raw)} of {length} bytes")
        return read_json(raw)


def _json_content_type(declared: str) -> None:
    """``application/json``, optionally with ``charset=utf-8`` (RFC 8259 §8.1); ``Refusal`` (415) otherwise."""
    media, *parameters = [part.strip().lower() for part in declared.split(";")]
    charsets = [p.partition("=")[2].strip('" ') for p in parameters if p.partition("=")[0].strip() == "charset"]
    if media == "application/json" and all(c == "utf-8" for c in charsets):
        return
    shown = f"Content-Type {declared[:60]}" if declared else "no Content-Type"
    raise Refusal(
        415, f"send Content-Type: application/json (UTF-8); got {shown}", headers=(("Accept-Post", "application/json"),)
    )


def read_json(raw: bytes) -> object:
    """The body as JSON text holding an object; ``Refusal`` (400) saying what it is instead.

    Numbers come back as ``JsonNumber`` (their text as sent); a key given twice is refused.
    """
    if not raw.strip():
        raise Refusal(400, "the body is empty: send a JSON object (Content-Type: application/json)")
    try:
        value = read_json_document(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8 text") from None
    except RepeatedKey as exc:
        raise Refusal(
            400, f"the body is not valid: {exc}", [Problem(field=exc.key[:60], message="is given twice")]
        ) from None
    except NotJsonNumber as exc:
        raise Refusal(400, f"the body is not JSON ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise Refusal(400, f"the body is not JSON ({str(exc)[:120]})") from None
    if not isinstance(value, dict):
        raise Refusal(400, f"the body is a JSON {json_type(value)}: send a JSON object")
    surrogate = _lone_surrogate(value)
    if surrogate is not None:
        raise Refusal(400, f"the body holds U+{surrogate:04X} (a lone surrogate), which is not Unicode text")
    return value


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
    lowercase = " (paths are lowercase)" if path.lower() != path else ""
    raise Refusal(404, f"there is nothing at {path[:80]}{lowercase} (see {PREFIX}/openapi.json)")


#: The query parameters each route takes (``GET /requests``: ``handlers.api.list_requests``); others take none.
LIST_PARAMETERS = ("kind", "state", "since", "cursor", "limit")


def _no_unknown_query(query_string: str, method: str, ref: str | None) -> None:
    """``Refusal`` (400) naming each query parameter this route does not take (DESIGN §9: nothing is ignored)."""
    if not query_string:
        return
    taken = LIST_PARAMETERS if method == "GET" and ref is None else ()
    names = [part.partition("=")[0] for part in query_string.split("&") if part]
    unknown = list(dict.fromkeys(n for n in names if unquote_plus(n) not in taken))
    if not unknown:
        return
    accepted = f"accepted: {', '.join(taken)}" if taken else "this route takes no query parameters"
    problems = [
        Problem(field=unquote_plus(n)[:40], message=f"is not a parameter here ({accepted})") for n in unknown[:50]
    ]
    raise Refusal(400, f"the query is not valid: {accepted}", problems)


def _path_text(environ: dict[str, Any]) -> str:
    """``PATH_INFO`` as the client wrote it: WSGI hands it over as latin-1 (PEP 3333); the bytes are UTF-8."""
    raw = str(environ.get("PATH_INFO", ""))
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


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


def _send(start_response: StartResponse, answer: Answer, *, head: bool = False) -> list[bytes]:
    """Start the response; ``head``: the headers of the answer without its body (RFC 9110 §9.3.2)."""
    if answer.status == 204:
        start_response("204 No Content", list(answer.headers))
        return []
    body = json.dumps(answer.body, separators=(",", ":")).encode()
    try:
        status = f"{answer.status} {HTTPStatus(answer.status).phrase}"
    except ValueError:
        status = f"{answer.status} Unknown"
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *answer.headers]
    start_response(status, headers)
    return [] if head else [body]
