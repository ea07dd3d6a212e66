"""``GET /api/v1/openapi.json``: the API described as OpenAPI 3.1, its schemas generated from ``handlers.api_models``.

The component schemas come from Pydantic (``models_json_schema``: JSON Schema 2020-12, the
dialect OpenAPI 3.1 uses); the paths object is assembled here, one entry per route of
``handlers.api_http``. Built once per process.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot import __version__
from handlers.api_models import (
    ApiError,
    ExplainRequest,
    Explanation,
    Filed,
    FileRequest,
    ListQuery,
    RequestDetailOut,
    RequestPage,
)

_INPUTS: tuple[type[BaseModel], ...] = (FileRequest, ExplainRequest, ListQuery)
_OUTPUTS: tuple[type[BaseModel], ...] = (Filed, RequestDetailOut, RequestPage, Explanation, ApiError)
_REF = "#/components/schemas/{model}"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``/api/v1`` (a new dict is never built twice: treat it as read-only)."""
    modes: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        *((m, "validation") for m in _INPUTS),
        *((m, "serialization") for m in _OUTPUTS),
    ]
    names, schemas = models_json_schema(modes, ref_template=_REF)

    def ref(model: type[BaseModel], mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        return names[(model, mode)]

    error = {"application/json": {"schema": ref(ApiError, "serialization")}}

    def answers(ok: int, model: type[BaseModel], *errors: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            str(ok): {
                "description": "filed" if ok == 201 else "OK",
                "content": {"application/json": {"schema": ref(model, "serialization")}},
            }
        }
        for status in sorted((400, 401, 405, 500, *errors)):
            out[str(status)] = {"description": _ERRORS[status], "content": error}
            if status in _HEADERS:
                out[str(status)]["headers"] = {_HEADERS[status]: _HEADER_DOCS[_HEADERS[status]]}
        return out

    def body(model: type[BaseModel]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref(model, "validation")}}}

    filed = answers(201, Filed, 403, 413, 415, 422, 503)
    filed["201"]["headers"] = {"Location": _HEADER_DOCS["Location"]}
    filed["200"] = {
        "description": "a replay: an earlier call with this Idempotency-Key filed it",
        "headers": {"Idempotent-Replayed": _HEADER_DOCS["Idempotent-Replayed"]},
        "content": {"application/json": {"schema": ref(Filed, "serialization")}},
    }
    openapi = {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}
    openapi |= {str(s): {"description": _ERRORS[s], "content": error} for s in (400, 405)}
    openapi["405"]["headers"] = {"Allow": _HEADER_DOCS["Allow"]}
    paths: dict[str, dict[str, Any]] = {
        "/api/v1/requests": {
            "post": {
                "operationId": "fileRequest",
                "summary": "File a request; decided exactly as the slash command would",
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": body(FileRequest),
                "responses": filed,
            },
            "get": {
                "operationId": "listRequests",
                "summary": "The client's requests, newest first, a page at a time",
                "parameters": _query_parameters(schemas["$defs"]["ListQuery"]),
                "responses": answers(200, RequestPage, 403, 503),
            },
        },
        "/api/v1/requests/{request}": {
            "get": {
                "operationId": "readRequest",
                "summary": "One request: state, fields, votes, receipt",
                "parameters": [_REQUEST_ID],
                "responses": answers(200, RequestDetailOut, 404, 503),
            }
        },
        "/api/v1/explain": {
            "post": {
                "operationId": "explain",
                "summary": "What filing this request now would decide, and why (stores nothing)",
                "requestBody": body(ExplainRequest),
                "responses": answers(200, Explanation, 403, 413, 415, 422, 503),
            }
        },
        "/api/v1/openapi.json": {
            "get": {"operationId": "openapi", "summary": "This document", "security": [], "responses": openapi}
        },
    }
    for path, item in paths.items():
        _head_and_options(path, item)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Signoff API",
            "version": __version__,
            "description": "DESIGN §9: decisions that propagate. Every error is JSON ({error, errors?}), including "
            "404 for a path that is not listed here (paths are lowercase) and what the HTTP server refuses before the "
            "app runs (413, 400, 501 for an unsupported Transfer-Encoding).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "signoff api-token"}},
        },
        "security": [{"bearer": []}],
    }


_ERRORS = {
    400: "the body is not a JSON object (or holds a key twice, NaN or Infinity), a query parameter is unknown or "
    "not valid, the request id is not one, or the HTTP request itself could not be read",
    401: "no bearer token, another scheme (Basic…), or a token that is no client's (WWW-Authenticate: Bearer)",
    403: "the client may not use this kind",
    404: "there is no such request of the client's kinds (an id past what storage holds included)",
    405: "the path does not take this method (Allow lists those it takes)",
    413: "the body is over 1 MiB (1,048,576 bytes; a chunked body counts its framing): refused unread",
    415: "the body is not sent as Content-Type: application/json (UTF-8)",
    422: "the body is not valid, or the Idempotency-Key was used with another body; every problem is listed "
    "(the first 50, then how many more)",
    500: "an unexpected failure: the answer names an error id to quote; nothing is known to be stored",
    503: "the database is busy or the answer's deadline passed: nothing was stored; retry (Retry-After)",
}
_HEADERS = {401: "WWW-Authenticate", 405: "Allow", 503: "Retry-After", 415: "Accept-Post"}
_HEADER_DOCS: dict[str, dict[str, Any]] = {
    "Location": {"description": "the new request's path, /api/v1/requests/REQ-43", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "true: this answer is a replay", "schema": {"type": "string"}},
    "WWW-Authenticate": {
        "description": 'Bearer realm="signoff" (with error="invalid_token" when the token sent is no client\'s)',
        "schema": {"type": "string"},
    },
    "Allow": {"description": "the methods the path takes, e.g. GET, HEAD, OPTIONS", "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}},
    "Accept-Post": {"description": "application/json", "schema": {"type": "string"}},
}


def _head_and_options(path: str, item: dict[str, Any]) -> None:
    """``OPTIONS`` (204 with ``Allow``) on every path; ``HEAD`` (``GET``'s answer without a body) where GET is."""
    methods = [m.upper() for m in item]
    allow = ", ".join([*methods, "HEAD", "OPTIONS"] if "GET" in methods else [*methods, "OPTIONS"])
    name = path.rsplit("/", 1)[-1].strip("{}").replace(".", "_")
    item["options"] = {
        "operationId": f"options_{name}",
        "summary": f"The methods this path takes: {allow}",
        "security": [],
        "responses": {"204": {"description": "no body", "headers": {"Allow": _HEADER_DOCS["Allow"]}}},
    }
    if "get" in item:
        get = item["get"]
        head = {
            status: {k: v for k, v in answer.items() if k != "content"} for status, answer in get["responses"].items()
        }
        item["head"] = {**get, "operationId": f"head_{get['operationId']}", "responses": head}


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1 to 200 printable ASCII characters; the same key and body again answer with the same request",
    "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"},
}
_REQUEST_ID = {
    "name": "request",
    "in": "path",
    "required": True,
    "description": "REQ-42 (or 42)",
    "schema": {"type": "string"},
}


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One OpenAPI query parameter per property of ``schema`` (a model's component schema), optional, not nullable."""
    parameters = []
    for name, prop in schema["properties"].items():
        options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
        shown = {**options[0], **{k: v for k, v in prop.items() if k in ("description", "default") and v is not None}}
        parameters.append({"name": name, "in": "query", "required": False, "schema": shown})
    return parameters
