"""A link's canonical spelling: the one form rules compare, cards show and exports carry.

A host can be written many ways that a browser reads as one: percent-escapes (``ev%69l.com``,
``evil%2Ecom``), the ideographic full stops IDNA treats as dots (U+3002 ``。``, U+FF0E ``．``,
U+FF61 ``｡``; UTS #46 §2.3) and capital letters. ``canonical_url`` writes the host the one way
(decoded, dots, lower case) so ``contains: "evil.com"`` sees ``evil.com`` however it was typed;
the rest of the link (user, port, path, query, fragment) is kept as typed.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from bot.domain.text import character_name

#: The full stops IDNA maps to "." (UTS #46 §2.3, RFC 3490 §3.1).
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
#: Besides letters, digits and combining marks (internationalized names), what a host may hold.
_HOST_PUNCTUATION = frozenset("-._")


def canonical_url(url: str) -> str:
    """``url`` (``http(s)://…``, already in text normal form) with its host canonical, or ``ValueError``.

    The host is percent-decoded (as UTF-8), its IDNA full stops become ".", and it is lower-cased;
    a host that then holds a character no host name can have (a space, ``/``, ``@``, ``%``, a
    control or invisible character…) is refused, naming the character. An IPv6 literal in
    brackets is only lower-cased.
    """
    parts = urlsplit(url)
    scheme, rest = url[: len(parts.scheme)].lower(), url[len(parts.scheme) + 3 + len(parts.netloc) :]
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        host, bracket, port = hostport.partition("]")
        return f"{scheme}://{userinfo}{at}{host.lower()}{bracket}{port}{rest}"
    host, colon, port = hostport.rpartition(":") if _has_port(hostport) else (hostport, "", "")
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
    return f"{scheme}://{userinfo}{at}{canonical}{colon}{port}{rest}"


def _has_port(hostport: str) -> bool:
    _, colon, tail = hostport.rpartition(":")
    return bool(colon) and tail.isascii() and tail.isdigit()


def _quoted(url: str) -> str:
    return f"“{url}”" if len(url) <= 60 else f"“{url[:57]}…”"
