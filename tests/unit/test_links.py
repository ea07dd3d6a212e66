"""Links that two readers could take for two different links are refused where every caller reads
them (``bot.domain.links.canonical_url``), never rewritten; query values are never shown."""

from __future__ import annotations

import pytest

from bot.domain.links import canonical_url, redact_links, redact_url

#: (link, what the refusal names). Each is refused by ``canonical_url``, a webhook URL in ``check``
#: and a ``url`` field of a request alike (``tests/unit/test_webhook_config.py``,
#: ``tests/services/test_hostile_links.py``).
HOSTILE = [
    ("https://ok.example.com/a b", "holds a space inside"),
    ("https://ok.example.com/a\nb", "holds U+000A inside"),
    ("https://ok.example.com/a\tb", "holds U+0009 inside"),
    ("https://ok.example.com/a\rb", "holds U+000D inside"),
    ("https://ok.example.com/a\x00b", "holds U+0000 inside"),
    ("https://ok.example.com/a\x1bb", "holds U+001B inside"),
    ("https://ok.example.com/h\u200b", "holds U+200B ZERO WIDTH SPACE at its end"),
    ("https://ok.example.com/h\u202e/x", "holds U+202E RIGHT-TO-LEFT OVERRIDE inside"),
    ("https://ok.example.com/a\u00a0b", "holds U+00A0 NO-BREAK SPACE inside"),
    ("https://ok.example.com/a\u3000b", "holds U+3000 IDEOGRAPHIC SPACE inside"),
    ("https://ok.example.com/a\ufeffb", "holds U+FEFF ZERO WIDTH NO-BREAK SPACE inside"),
    ("https://ok.example.com/a?q=\u2028", "holds U+2028 LINE SEPARATOR at its end"),
    ("https://ok.example.com/\uff48", "holds U+FF48 FULLWIDTH LATIN SMALL LETTER H, which reads as “h”"),
    ("https://ok.example.com:99999/h", "has “99999” as its port; a port is a number from 1 to 65535"),
    ("https://ok.example.com:0/h", "has “0” as its port"),
    ("https://ok.example.com:-1/h", "has “-1” as its port"),
    ("https://ok.example.com:/h", "has nothing as its port"),
    ("https://ok.example.com:8o/h", "has “8o” as its port"),
    ("https://[::1]:0/h", "has “0” as its port"),
    ("https://[::zz]/h", "which is no IPv6 address"),
    ("https://bank.com@evil.com/", "has a user or password before “@”"),
    ("https://user:pw@ok.example.com/", "has a user or password before “@”"),
    ("https://ok.example.com\\@evil.com/", "holds a backslash, which browsers read as “/”"),
    ("https://ok.example.com/a\\b", "holds a backslash"),
    ("https://\u0430pple.com/h", "looks like a spoof: “\u0430pple” mixes letters of different scripts"),
    ("https://\u0430\u0440\u0440\u04cf\u0435.com/h", "looks like a spoof"),  # all Cyrillic, reads "apple"
    ("https://ev\u0456l-corp.com/", "looks like a spoof"),
]

#: Refused by ``canonical_url`` and by a webhook URL; a form field strips the ends of any value first.
SURROUNDED = [
    (" https://ok.example.com/h", "holds a space at its start"),
    ("https://ok.example.com/h ", "holds a space at its end"),
    ("\thttps://ok.example.com/h", "holds U+0009 at its start"),
    ("https://ok.example.com/h\n", "holds U+000A at its end"),
]


@pytest.mark.parametrize(("url", "named"), HOSTILE + SURROUNDED)
def test_a_link_two_readers_could_read_differently_is_refused_naming_why(url: str, named: str) -> None:
    with pytest.raises(ValueError, match="link") as caught:
        canonical_url(url)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message and "\t" not in message and "\r" not in message  # one line, whatever the link held


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://OK.Example.COM/A?b=C#D", "https://ok.example.com/A?b=C#D"),
        ("http://127.0.0.1:08080/h", "http://127.0.0.1:8080/h"),
        ("https://ok.example.com:65535", "https://ok.example.com:65535"),
        ("http://\u24dbocalhost/", "http://localhost/"),
        ("https://m\u00fcnchen.de/stra\u00dfe", "https://m\u00fcnchen.de/stra\u00dfe"),
        ("https://\u0433\u0430\u0437\u043f\u0440\u043e\u043c.\u0440\u0444/", "https://газпром.рф/"),  # one script
        ("https://ok.example.com/h?token=abc", "https://ok.example.com/h?token=abc"),
    ],
)
def test_a_link_keeps_its_scheme_and_host_and_the_rest_as_typed(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical


def test_the_scheme_and_host_checked_are_the_ones_kept() -> None:
    """The old offset bug: a leading space made ``https://ok.example.com/h`` into ``http://ok.example.comm/h``."""
    for url in ("https://ok.example.com/h", "https://127.0.0.1:1904/ok/lead"):
        assert canonical_url(url) == url
        with pytest.raises(ValueError, match="holds a space at its start"):
            canonical_url(" " + url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://h.example/p?token=Secret", "https://h.example/p?token=REDACTED"),
        ("https://h.example/p?a=1&Secret&b=", "https://h.example/p?a=REDACTED&REDACTED&b=REDACTED"),
        ("https://u:pw@h.example/p", "https://REDACTED@h.example/p"),
        ("https://h.example/p#Secret", "https://h.example/p#REDACTED"),
        ("https://h.example/p", "https://h.example/p"),
    ],
)
def test_a_shown_link_never_carries_its_query_values(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_links(f"POST {url}: no answer") == f"POST {shown}: no answer"
