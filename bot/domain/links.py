"""A link's canonical spelling: the one form rules compare, cards show, exports carry and webhooks POST to.

A host can be written many ways that a browser reads as one: percent-escapes (``ev%69l.com``,
``evil%2Ecom``), the ideographic full stops IDNA treats as dots (U+3002 ``。``, U+FF0E ``．``,
U+FF61 ``｡``; UTS #46 §2.3), compatibility forms (NFKC, UTS #46 §4) and capital letters.
``canonical_url`` writes the host the one way (decoded, dots, lower case) so
``contains: "evil.com"`` sees ``evil.com`` however it was typed; the rest of the link (port, path,
query, fragment) is kept as typed.

What two readers could take for two different links is refused, never rewritten (WHATWG URL
Standard §4.4 and ``urllib.parse`` disagree on each of these): whitespace, control and invisible
characters anywhere (``urlsplit`` silently drops tabs and line breaks and strips the ends; a
browser percent-encodes a zero-width space in a path), a backslash (a browser reads it as ``/``),
a user or password before the host (``https://bank.com@evil.com`` goes to ``evil.com``), a port
outside 1–65535, a host that mixes scripts like a look-alike spoof (Unicode TS #39, as
``bot.domain.text.mixed_script_problem`` refuses it in text), and compatibility characters
outside the host (``／`` is not ``/`` in a path).

``redact_url`` is how any URL that may carry a credential in its query is shown (logs, CLI
output, Slack messages, errors): every query value is replaced by ``REDACTED``.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, unquote

from bot.domain.text import character_name, mixed_script_problem

#: The full stops IDNA maps to "." (UTS #46 §2.3, RFC 3490 §3.1).
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
#: Besides letters, digits and combining marks (internationalized names), what a host may hold.
_HOST_PUNCTUATION = frozenset("-._")
#: ``scheme://authority`` then the rest: the authority ends at the first ``/``, ``?`` or ``#``
#: (RFC 3986 §3.2). Whitespace and backslashes are refused before this is matched.
_LINK = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL)
#: What a link is, for messages.
ACCEPTED = "a link such as https://example.com/path, written without spaces or invisible characters"
#: What a redacted query value shows.
REDACTED = "REDACTED"
#: An http(s) link inside text (a log line, an error): up to whitespace, a quote or a bracket, and
#: not ending in the punctuation that follows a link in a sentence (``https://h/p?t=1: no answer``).
_LINK_IN_TEXT = re.compile(r"https?://[^\s\"'<>()\[\]{}|]*[^\s\"'<>()\[\]{}|:.,;!?]", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """``url`` (``http(s)://host[:port][/path][?query][#fragment]``) with its host canonical, or ``ValueError``.

    The host is percent-decoded (as UTF-8), put in NFKC, its IDNA full stops become ".", and it is
    lower-cased; an IPv6 literal in brackets must be one and is only lower-cased. A leading zero of
    the port is dropped (``:08080`` is port 8080). Refused, with a message naming what is wrong
    and what is accepted: see the module docstring.
    """
    _refuse_odd_characters(url)
    found = _LINK.fullmatch(url)
    if found is None or found["scheme"].lower() not in ("http", "https"):
        raise ValueError(f"the link {_quoted(url)} does not start with http:// or https://; expected {ACCEPTED}")
    authority, rest = found["authority"], found["rest"]
    if "@" in authority:
        raise ValueError(
            f"the link {_quoted(url)} has a user or password before “@”, which hides the host it goes to; "
            "write the link without it"
        )
    host, port = _split_port(url, authority)
    for char in rest:
        if unicodedata.normalize("NFKC", char) != char:
            raise ValueError(
                f"the link {_quoted(url)} holds {character_name(char)}, which reads as "
                f"“{unicodedata.normalize('NFKC', char)}” but is another character; write what you mean, "
                "or percent-encode it"
            )
    return f"{found['scheme'].lower()}://{_canonical_host(url, host)}{port}{rest}"


def ascii_url(url: str) -> str:
    """A canonical ``url`` (``canonical_url``) as sent over HTTP: the host in IDNA (``xn--…``,
    RFC 5891), every non-ASCII character of the rest percent-encoded as UTF-8 (WHATWG URL §4.4)."""
    found = _LINK.fullmatch(url)
    if found is None:
        raise ValueError(f"the link {_quoted(url)} is not canonical")
    authority = found["authority"]
    if not authority.isascii():
        host, port = _split_port(url, authority)
        try:
            authority = host.encode("idna").decode("ascii") + port
        except UnicodeError:
            raise ValueError(f"the host of the link {_quoted(url)} is not a valid internationalized name") from None
    rest = "".join(char if char.isascii() else quote(char, safe="") for char in found["rest"])
    return f"{found['scheme']}://{authority}{rest}"


def redact_url(url: str) -> str:
    """``url`` with every query value replaced by ``REDACTED`` (``?token=REDACTED&a=REDACTED``; a query
    part without ``=`` is replaced whole), and any user or password too: receivers authenticate
    with such values, so no log, CLI line, Slack message or metric shows them. Never raises."""
    head, hash_mark, fragment = url.partition("#")
    base, question, query = head.partition("?")
    scheme, sep, after = base.partition("://")
    authority, slash, path = after.partition("/")
    if sep and "@" in authority:
        base = f"{scheme}{sep}{REDACTED}@{authority.rpartition('@')[2]}{slash}{path}"
    if question:
        parts = (part.partition("=") for part in query.split("&"))
        query = "&".join(f"{name}={REDACTED}" if equals else (REDACTED if name else "") for name, equals, _ in parts)
    return f"{base}{question}{query}{hash_mark}{REDACTED if fragment else ''}"


def redact_links(text: str, *, of: Iterable[str] = ()) -> str:
    """``text`` with every http(s) link in it shown by ``redact_url`` (for log lines and error messages),
    and the query of each link of ``of`` redacted wherever it appears (an HTTP library's error may
    quote the path and query alone)."""
    for url in of:
        query = url.partition("#")[0].partition("?")[2]
        if query:
            text = text.replace(query, redact_url(f"?{query}")[1:])
    if "://" not in text:
        return text
    return _LINK_IN_TEXT.sub(lambda found: redact_url(found.group()), text)


def _refuse_odd_characters(url: str) -> None:
    """Whitespace, control, invisible and compatibility characters and backslashes, anywhere but
    in a host's compatibility forms (which ``_canonical_host`` maps as IDNA does)."""
    for index, char in enumerate(url):
        if char.isascii() and char.isprintable() and char not in " \\":
            continue
        if char == "\\":
            raise ValueError(
                f"the link {_quoted(url)} holds a backslash, which browsers read as “/”; write “/” or %5C instead"
            )
        if char.isspace() or not char.isprintable() or _invisible(char):
            where = "at its start" if index == 0 else "at its end" if index == len(url) - 1 else "inside"
            shown = "a space" if char == " " else character_name(char)
            raise ValueError(
                f"the link {_quoted(url)} holds {shown} {where}; expected {ACCEPTED} "
                "(percent-encode such a character in a path, e.g. %20 for a space)"
            )


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in ("Cf", "Cs", "Co", "Cn") or unicodedata.normalize("NFKC", char).strip() == ""


def _split_port(url: str, authority: str) -> tuple[str, str]:
    """(host, ``:port`` or ""), the port checked (RFC 3986 §3.2.3; TCP ports are 1–65535)."""
    if authority.startswith("["):
        host, bracket, tail = authority.partition("]")
        host += bracket
        if not tail:
            return host, ""
        if not tail.startswith(":"):
            raise ValueError(f"the link {_quoted(url)} has “{tail}” after its IPv6 address; expected :port or /path")
        port = tail[1:]
    else:
        host, colon, port = authority.rpartition(":")
        if not colon:
            return authority, ""
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        shown = f"“{port}”" if port else "nothing"
        raise ValueError(f"the link {_quoted(url)} has {shown} as its port; a port is a number from 1 to 65535")
    return host, f":{int(port)}"


def _canonical_host(url: str, host: str) -> str:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"the link {_quoted(url)} has “{host}”, which is no IPv6 address, as its host") from None
        return host.lower()
    try:
        decoded = unquote(host, errors="strict")
    except UnicodeDecodeError:
        raise ValueError(f"the host of the link {_quoted(url)} has percent-escapes that are not UTF-8") from None
    canonical = unicodedata.normalize("NFKC", decoded).translate(_IDNA_DOTS).lower()
    if not canonical.strip("."):
        raise ValueError(f"the link {_quoted(url)} has no host")
    for char in canonical:
        if not (char.isalnum() or char in _HOST_PUNCTUATION or unicodedata.category(char).startswith("M")):
            shown = "a space" if char == " " else f"“{char}”" if char.isprintable() else character_name(char)
            raise ValueError(f"the host of the link {_quoted(url)} holds {shown}, which no host name can have")
    problem = mixed_script_problem(canonical.replace(".", " ").replace("-", " "))
    if problem is not None:
        raise ValueError(f"the host of the link {_quoted(url)} looks like a spoof: {problem}")
    return canonical


def _quoted(url: str) -> str:
    """``url`` for a one-line message: query values redacted, clipped, what does not show escaped (``\\n``)."""
    shown = redact_url(url)
    shown = shown if len(shown) <= 60 else shown[:57] + "…"
    return "“" + "".join(c if c == " " or (c.isprintable() and not _invisible(c)) else _escaped(c) for c in shown) + "”"


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")
