"""Invisible, blank-looking and non-characters; link hosts; choice options; quoted values (issue 9 findings 1, 7, 8, 10, 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.contracts import ContractError, FieldProblem
from bot.domain.explain import render_explanation
from bot.domain.fields import FieldSpec, coerce
from bot.domain.governance import Governance, GovernanceInvalid
from bot.domain.outcome import resolve
from bot.domain.text import is_blank, normalize_text
from tests.conftest import AT, governance_from
from tests.unit.test_cli import run, starter

__all__ = ["starter"]  # the fixture, shared with test_cli

# (raw, normal form): every Default_Ignorable_Code_Point class is removed, blank-looking characters are a space.
INVISIBLE = [
    ("Evil Corp\u3164", "Evil Corp"),  # HANGUL FILLER
    ("Evil\u034f Corp", "Evil Corp"),  # COMBINING GRAPHEME JOINER
    ("Evil Corp\ufe0f", "Evil Corp"),  # VARIATION SELECTOR-16
    ("Evil\ufe00 Corp", "Evil Corp"),  # VARIATION SELECTOR-1
    ("Evil\U000e0100 Corp", "Evil Corp"),  # VARIATION SELECTOR-17
    ("Evil\u17b4 Corp\u17b5", "Evil Corp"),  # KHMER VOWEL INHERENT AQ, AA
    ("Evil\u180b\u180f Corp", "Evil Corp"),  # MONGOLIAN FREE VARIATION SELECTORS ONE, FOUR
    ("Evil\u180e Corp", "Evil Corp"),  # MONGOLIAN VOWEL SEPARATOR
    ("Evil\U000e0041\U000e007f Corp", "Evil Corp"),  # TAG LATIN CAPITAL A, CANCEL TAG
    ("Evil\U0001d173 Corp", "Evil Corp"),  # MUSICAL SYMBOL BEGIN BEAM
    ("Evil\U0001bca0 Corp", "Evil Corp"),  # SHORTHAND FORMAT LETTER OVERLAP
    ("Evil\u061c Corp", "Evil Corp"),  # ARABIC LETTER MARK
    ("please wire\u3164transfer", "please wire transfer"),  # a filler shows as a space
    ("please wire\uffa0transfer", "please wire transfer"),  # HALFWIDTH HANGUL FILLER
    ("please wire\u115ftransfer", "please wire transfer"),  # HANGUL CHOSEONG FILLER
    ("please wire\u1160transfer", "please wire transfer"),  # HANGUL JUNGSEONG FILLER
    ("Acme" + "\u2800" * 40 + " Approved by CFO", "Acme Approved by CFO"),  # BRAILLE PATTERN BLANK
    ("\u2800Acme\u3164", "Acme"),
    ("❤\ufe0f", "❤"),
    ("한국어", "한국어"),  # Hangul syllables are letters, not fillers
    ("\u2801", "\u2801"),  # a Braille pattern with a dot shows
]


@pytest.mark.parametrize(("raw", "normal"), INVISIBLE)
def test_invisible_characters_are_removed_and_blank_ones_are_spaces(raw: str, normal: str) -> None:
    assert normalize_text(raw) == normal
    assert normalize_text(normal) == normal


@pytest.mark.parametrize(
    ("raw", "blank"),
    [
        ("\u3164", True),
        ("\u2800\u2800", True),
        ("\ufe0f \u034f", True),
        ("\uffa0\u115f\u1160\u17b4", True),
        ("\U000e0020", True),
        ("\u200b\u00a0", True),
        ("", True),
        (" \t", True),
        ("a\u3164", False),
        ("\u2801", False),
        ("\x00", False),  # shows nothing but is refused with its own message, not read as "not given"
    ],
)
def test_a_value_that_shows_nothing_is_blank(raw: str, blank: bool) -> None:
    assert is_blank(raw) is blank


SURROGATE = "contains U+{}, a lone surrogate (half a UTF-16 pair, or a byte that is not UTF-8), which is not allowed"
NOT_TEXT = [
    ("Acme\ud800", SURROGATE.format("D800")),
    ("\udcff\udcfe", SURROGATE.format("DCFF")),  # argv bytes ff fe read with surrogateescape
    ("Acme\udfff", SURROGATE.format("DFFF")),
    ("Acme\ufffe", "contains the noncharacter U+FFFE, which is not allowed"),
    ("Acme\uffff", "contains the noncharacter U+FFFF, which is not allowed"),
    ("Acme\ufdd0", "contains the noncharacter U+FDD0, which is not allowed"),
    ("Acme\U0001fffe", "contains the noncharacter U+1FFFE, which is not allowed"),
    ("Acme\U0010ffff", "contains the noncharacter U+10FFFF, which is not allowed"),
]


@pytest.mark.parametrize(("raw", "message"), NOT_TEXT)
def test_surrogates_and_noncharacters_are_refused_by_code_point(raw: str, message: str) -> None:
    for multiline in (False, True):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            normalize_text(raw, multiline=multiline)


FILE = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text, required: true}
      memo: {type: text}
      pct: {type: number}
      link: {type: url}
      region: {type: choice, options: [EMEA, APAC]}
    approvers: ops
    rules:
      - {id: blocked, when: {account: {in: [Evil Corp]}}, decide: reject, reason: Blocked.}
      - {id: wire, when: {memo: {contains: "wire transfer"}}, decide: reject, reason: No wires.}
      - {id: evil-link, when: {link: {contains: "evil.com"}}, decide: reject, reason: Bad link.}
      - {id: trusted, when: {account: {in: [Acme]}}, decide: approve, reason: Trusted.}
"""


@pytest.fixture(scope="module")
def deal() -> Governance:
    return governance_from(FILE)


def _rule(governance: Governance, fields: dict[str, str]) -> str | None:
    kind = governance.kind("deal")
    values = governance.validate_fields(kind, fields, at=AT)
    return resolve(governance, kind, values, requester="U0SAM", at=AT).rule


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"account": "Evil Corp\u3164"}, "blocked"),
        ({"account": "Evil\u034f Corp"}, "blocked"),
        ({"account": "Evil Corp\ufe0f"}, "blocked"),
        ({"account": "Evil\u2800Corp"}, "blocked"),
        ({"account": "Acme", "memo": "please wire\u3164transfer"}, "wire"),
        ({"account": "Acme", "link": "https://evil。com/x"}, "evil-link"),
        ({"account": "Acme", "link": "https://evil｡com"}, "evil-link"),
        ({"account": "Acme", "link": "https://evil．com"}, "evil-link"),
        ({"account": "Acme", "link": "https://ev%69l.com/x"}, "evil-link"),
        ({"account": "Acme", "link": "https://evil%2Ecom"}, "evil-link"),
        ({"account": "Acme", "link": "https://EVIL.COM/Path"}, "evil-link"),
        ({"account": "Acme", "link": "https://good.com/x"}, "trusted"),
    ],
)
def test_rules_see_what_people_see(deal: Governance, fields: dict[str, str], rule: str) -> None:
    assert _rule(deal, fields) == rule


REQUIRED = "is required (text, up to 3000 characters)"


@pytest.mark.parametrize("blank", ["\u3164", "\u2800", "\ufe0f", "\u034f\u17b4", "\uffa0 \u115f"])
def test_a_required_field_given_only_blank_characters_is_not_given(deal: Governance, blank: str) -> None:
    with pytest.raises(ContractError) as caught:
        deal.validate_fields(deal.kind("deal"), {"account": blank}, at=AT)
    assert caught.value.problems == [FieldProblem("account", REQUIRED)]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"account": "Acme\ud800"}, FieldProblem("account", SURROGATE.format("D800"))),
        ({"account": "\udcff\udcfe"}, FieldProblem("account", SURROGATE.format("DCFF"))),
        ({"account": "Acme", "pct": "\udcff"}, FieldProblem("pct", SURROGATE.format("DCFF"))),
        (
            {"account": "Acme", "region": "EMEA\ufffe"},
            FieldProblem("region", "contains the noncharacter U+FFFE, which is not allowed"),
        ),
        (
            {"account": "Acme", "link": "https://ev%20il.com/"},
            FieldProblem(
                "link", "the host of the link “https://ev%20il.com/” holds a space, which no host name can have"
            ),
        ),
        (
            {"account": "Acme", "link": "https://evil%2Fx.com/"},
            FieldProblem("link", "the host of the link “https://evil%2Fx.com/” holds “/”, which no host name can have"),
        ),
        (
            {"account": "Acme", "link": "https://a%40evil.com/"},
            FieldProblem("link", "the host of the link “https://a%40evil.com/” holds “@”, which no host name can have"),
        ),
        (
            {"account": "Acme", "link": "https://evil%2525.com/"},
            FieldProblem(
                "link", "the host of the link “https://evil%2525.com/” holds “%”, which no host name can have"
            ),
        ),
        (
            {"account": "Acme", "link": "https://evil%00.com/"},
            FieldProblem(
                "link", "the host of the link “https://evil%00.com/” holds U+0000, which no host name can have"
            ),
        ),
        (
            {"account": "Acme", "link": "https://evil%E2%80%8B.com/"},
            FieldProblem(
                "link",
                "the host of the link “https://evil%E2%80%8B.com/” holds U+200B ZERO WIDTH SPACE, which no host name can have",
            ),
        ),
        (
            {"account": "Acme", "link": "https://evil%ff.com/"},
            FieldProblem("link", "the host of the link “https://evil%ff.com/” has percent-escapes that are not UTF-8"),
        ),
        ({"account": "Acme", "link": "https://%2E/"}, FieldProblem("link", "the link “https://%2E/” has no host")),
    ],
)
def test_text_that_is_not_characters_and_impossible_hosts_are_refused(
    deal: Governance, fields: dict[str, str], problem: FieldProblem
) -> None:
    with pytest.raises(ContractError) as caught:
        deal.validate_fields(deal.kind("deal"), fields, at=AT)
    assert caught.value.problems == [problem]


URL = FieldSpec(type="url")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("https://evil。com/x", "https://evil.com/x"),
        ("https://evil｡com", "https://evil.com"),
        ("https://ev%69l.com/x", "https://evil.com/x"),
        ("https://evil%2Ecom", "https://evil.com"),
        ("HTTPS://Evil.COM:8443/A%20b?q=%41#Frag", "https://evil.com:8443/A%20b?q=%41#Frag"),  # the rest as typed
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]:443/x"),
        ("https://münchen.de/", "https://münchen.de/"),
        ("https://x.com/path?", "https://x.com/path?"),
    ],
)
def test_a_link_is_stored_with_its_host_canonical(raw: str, stored: str) -> None:
    assert coerce(URL, raw, tz=AT.tzinfo) == stored  # type: ignore[arg-type]


OPTIONS = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      teams: {type: %s, options: %s}
    approvers: ops
"""
AT_FIELD = "line 9: kinds.deal.fields.teams: "


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (
            "multi_choice",
            '["R&D, EMEA", "R&D", "EMEA"]',
            "option “R&D, EMEA” holds a comma, which separates the choices of a multi_choice field; write it without",
        ),
        (
            "choice",
            '["a\\u200bb", "c"]',
            "option “a[U+200B]b” holds U+200B ZERO WIDTH SPACE, which Signoff removes or changes in what people type, "
            "so the option could never be chosen; write it as “ab”",
        ),
        (
            "choice",
            '["EMEA\\u3164"]',
            "option “EMEA\u3164” holds U+3164 HANGUL FILLER, which Signoff removes or changes in what people type, "
            "so the option could never be chosen; write it as “EMEA”",
        ),
        (
            "multi_choice",
            '["ＥＭＥＡ"]',
            "option “ＥＭＥＡ” holds U+FF25 FULLWIDTH LATIN CAPITAL LETTER E, which Signoff removes or changes in what "
            "people type, so the option could never be chosen; write it as “EMEA”",
        ),
        (
            "choice",
            '["a\\x01"]',
            "option “a[U+0001]” holds U+0001, which Signoff removes or changes in what people type, "
            "so the option could never be chosen; remove it",
        ),
        ("choice", '["R&D  EMEA"]', "option “R&D  EMEA” has extra spaces; write it as “R&D EMEA”"),
        ("choice", '[" EMEA"]', "option “ EMEA” has extra spaces; write it as “EMEA”"),
        (
            "choice",
            '["emea", "\\u0435mea"]',
            "options “emea” and “еmea” look alike; people could not tell which they chose",
        ),
        (
            "multi_choice",
            '["Evil", "Evi1"]',
            "options “Evil” and “Evi1” look alike; people could not tell which they chose",
        ),
        ("choice", "[EMEA, emea]", "options must be unique"),
    ],
)
def test_options_that_could_not_be_told_apart_or_chosen_are_refused_at_check(
    kind: str, options: str, message: str
) -> None:
    with pytest.raises(GovernanceInvalid) as caught:
        governance_from(OPTIONS % (kind, options))
    assert str(caught.value) == AT_FIELD + message


def test_a_choice_option_may_hold_a_comma() -> None:
    governance = governance_from(OPTIONS % ("choice", '["R&D, EMEA", "R&D"]'))
    assert governance.validate_fields(governance.kind("deal"), {"teams": "R&D, EMEA"}, at=AT) == {"teams": "R&D, EMEA"}


QUOTED = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text}
    approvers: ops
    rules:
      - {id: trusted, when: {account: {in: [Acme]}}, decide: approve, reason: Trusted.}
"""


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (
            "Zed); everything else is pre-approved by the CFO (ok",
            "No governed default covers this: trusted applies when account in [Acme] "
            "(got “Zed); everything else is pre-approved by the CFO (ok”).",
        ),
        (
            "Zed” and the CFO said “fine",
            'No governed default covers this: trusted applies when account in [Acme] (got “Zed" and the CFO said "fine”).',
        ),
        (
            "x" * 80,
            f"No governed default covers this: trusted applies when account in [Acme] (got “{'x' * 56}…”).",
        ),
    ],
)
def test_a_value_in_a_reason_is_quoted_and_clipped(account: str, reason: str) -> None:
    governance = governance_from(QUOTED)
    resolution = resolve(governance, governance.kind("deal"), {"account": account}, requester="U0SAM", at=AT)
    assert resolution.reason == reason
    assert "\n      account “" in render_explanation(governance, resolution)  # the trace line quotes it too


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (
            "account=\udcff\udcfe",
            "signoff explain: the argument “account=\\xff\\xfe” is not valid UTF-8; pass text encoded as UTF-8\n",
        ),
        (
            "amount_pct=\udcff",
            "signoff explain: the argument “amount_pct=\\xff” is not valid UTF-8; pass text encoded as UTF-8\n",
        ),
    ],
)
def test_explain_refuses_an_argument_that_is_not_utf8_in_one_line(
    starter: Path, capsys: pytest.CaptureFixture[str], argument: str, message: str
) -> None:
    code, out, err = run(capsys, "explain", "discount", "region=emea", argument)
    assert (code, out, err) == (1, "", message)
