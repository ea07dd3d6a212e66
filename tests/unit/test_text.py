"""Text in one normal form before rules and people see it (bot/domain/text.py, fields.coerce, conditions)."""

from __future__ import annotations

import contextlib
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contracts import ContractError, FieldProblem
from bot.domain.filetests import run_file_tests
from bot.domain.governance import Governance, GovernanceInvalid
from bot.domain.outcome import resolve
from bot.domain.text import comparison_key, look_alike_keys, mixed_script_problem, normalize_text
from tests.conftest import AT, governance_from

CYRILLIC_E_EVIL = "\u0415vil Corp"  # a Cyrillic Е, then Latin letters
SPOOF = (
    "“Еvil” mixes letters of different scripts (U+0415 CYRILLIC CAPITAL LETTER IE (Cyrillic), "
    "U+0076 LATIN SMALL LETTER V (Latin)), as look-alike spoofs do; type the word in one script"
)
NUL = "contains the control character U+0000, which is not allowed"
SINGLE_LINE = "is a single-line field: remove the line break"

# (raw input, normal form) — single-line text.
NORMAL = [
    ("Evil\u200b Corp", "Evil Corp"),  # zero-width space
    ("Evil\u00a0Corp", "Evil Corp"),  # no-break space
    ("evil corp", "evil corp"),  # case is kept; comparisons fold it
    ("  Evil \t  Corp  ", "Evil Corp"),
    ("Evil\u200dCorp", "EvilCorp"),  # zero-width joiner
    ("Evil\u2060Corp", "EvilCorp"),  # word joiner
    ("Evil\u202eproC", "EvilproC"),  # right-to-left override
    ("\u2066Evil\u2069 Corp", "Evil Corp"),  # bidi isolates
    ("co\u00adoperate", "cooperate"),  # soft hyphen
    ("\ufeffAcme", "Acme"),  # byte-order mark
    ("Ｅｖｉｌ　Ｃｏｒｐ", "Evil Corp"),  # fullwidth letters, ideographic space
    ("ﬁnance", "finance"),  # ligature
    ("Acme\u2003Corp", "Acme Corp"),  # em space
    ("Газпром", "Газпром"),
    ("東京タワー", "東京タワー"),
    ("cafe\u0301", "café"),  # composed
]

# (raw input, message) — single-line text.
REFUSED = [
    ("Evil\x00Corp", NUL),
    ("\x00", NUL),
    ("Evil\x1bCorp", "contains the control character U+001B, which is not allowed"),
    ("Evil\x7fCorp", "contains the control character U+007F, which is not allowed"),
    ("Evil\x0bCorp", "contains the control character U+000B, which is not allowed"),
    ("Evil\nCorp", SINGLE_LINE),
    ("Evil\r\nCorp", SINGLE_LINE),
    ("Evil\rCorp", SINGLE_LINE),
    ("Evil\u2028Corp", SINGLE_LINE),
    ("Evil\u0085Corp", SINGLE_LINE),
]


@pytest.mark.parametrize(("raw", "normal"), NORMAL)
def test_text_is_put_in_its_normal_form(raw: str, normal: str) -> None:
    assert normalize_text(raw) == normal


@pytest.mark.parametrize(("raw", "message"), REFUSED)
def test_control_characters_and_line_breaks_are_refused_with_the_character(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        normalize_text(raw)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("line 1\r\nline  2\n\n", "line 1\nline 2"),
        ("\n a \u2028 b\u200b \n", "a\nb"),
        ("one\n\ntwo", "one\n\ntwo"),
        ("tab\there", "tab here"),
    ],
)
def test_multiline_text_keeps_its_lines(raw: str, normal: str) -> None:
    assert normalize_text(raw, multiline=True) == normal


def test_multiline_text_still_refuses_control_characters() -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(NUL)}$"):
        normalize_text("a\n\x00", multiline=True)


SPOOFS = [
    (CYRILLIC_E_EVIL, SPOOF),
    (
        "Еѵіӏ Corp",  # every letter of the first word Cyrillic, next to a Latin word
        "“Еѵіӏ” is written in Cyrillic letters that look like the Latin “Evii”, as look-alike spoofs do; "
        "type the word in one script",
    ),
    (
        "ΑΒΕ Corp",  # Greek capitals
        "“ΑΒΕ” is written in Greek letters that look like the Latin “ABE”, as look-alike spoofs do; "
        "type the word in one script",
    ),
    (
        "Acmе",  # Cyrillic е at the end
        "“Acmе” mixes letters of different scripts (U+0435 CYRILLIC SMALL LETTER IE (Cyrillic), "
        "U+0041 LATIN CAPITAL LETTER A (Latin)), as look-alike spoofs do; type the word in one script",
    ),
]
ONE_SCRIPT = [
    "Evil Corp",
    "Газпром",
    "ООО Ромашка",
    "東京タワー",  # Han and Katakana in one word: Japanese
    "東京タワー Tokyo",
    "Москва office",
    "Acme/Газпром",  # two words split by punctuation
    "Ελλάδα",
    "naïve café",
    "Plan 9",
    "한국어 text",
]


@pytest.mark.parametrize(("text", "message"), SPOOFS)
def test_a_word_that_mixes_scripts_like_a_spoof_is_named(text: str, message: str) -> None:
    assert mixed_script_problem(text) == message


@pytest.mark.parametrize("text", ONE_SCRIPT)
def test_text_in_one_script_per_word_is_fine(text: str) -> None:
    assert mixed_script_problem(text) is None


@pytest.mark.parametrize(
    ("a", "b", "same", "looks_alike"),
    [
        ("Evil Corp", "evil corp", True, True),
        ("Evil Corp", "EVIL CORP", True, True),
        ("Evil Corp", "Evil\u200b Corp", True, True),
        ("Evil Corp", "Evil\u00a0Corp", True, True),
        ("Evil Corp", "Ｅｖｉｌ Ｃｏｒｐ", True, True),
        ("Straße", "STRASSE", True, True),  # full case folding
        ("Газпром", "ГАЗПРОМ", True, True),
        # Look-alikes are other texts: a rule never decides on them (a person does).
        ("Evil Corp", CYRILLIC_E_EVIL, False, True),
        ("Evil Corp", "Evi1 Corp", False, True),  # digit one looks like l (TS #39 skeleton)
        ("Evil Corp", "EviI Corp", False, True),  # capital I looks like l
        ("Bad Inc", "Bad lnc", False, True),  # small L looks like I
        ("Acme Corp", "Acrne Corp", False, True),  # rn looks like m
        ("Clean Energy", "C1ean Energy", False, True),
        ("Evil Corp", "Evıl Corp", False, True),  # dotless i
        ("Evil Corp", "Evɪl Corp", False, True),  # small capital I
        ("evil", "ᴇᴠɪʟ", False, True),  # small capitals
        ("Evil Corp", "Evil Co", False, False),
        ("Evil Corp", "EvilCorp", False, False),
        ("Acme", "Acne", False, False),
    ],
)
def test_comparison_key_is_exact_and_look_alike_keys_catch_look_alikes(
    a: str, b: str, same: bool, looks_alike: bool
) -> None:
    assert (comparison_key(a) == comparison_key(b)) is same
    assert bool(look_alike_keys(a) & look_alike_keys(b)) is looks_alike


FILE = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text, required: true}
      details: {type: text, multiline: true}
      link: {type: url}
      mail: {type: email}
      region: {type: choice, options: [EMEA, APAC]}
      amount: {type: number}
    approvers: ops
    rules:
      - {id: blocked, when: {account: {in: [Evil Corp]}}, decide: reject, reason: Blocked account.}
"""


@pytest.fixture(scope="module")
def deal() -> Governance:
    return governance_from(FILE)


# Every field class, through the contract as slash text, modal, amend and file tests use it: (input, problems).
CONTRACT = [
    ({"account": "Evil\x00Corp"}, [FieldProblem("account", NUL)]),
    ({"account": "Acme", "details": "ok\n\x00"}, [FieldProblem("details", NUL)]),
    ({"account": "Evil\nCorp"}, [FieldProblem("account", SINGLE_LINE)]),
    ({"account": CYRILLIC_E_EVIL}, [FieldProblem("account", SPOOF)]),
    ({"account": "Acme", "link": "https://example.com/\x00"}, [FieldProblem("link", NUL)]),
    (
        {"account": "Acme", "link": "https://аpple.com/pay"},  # Cyrillic а in the host
        [
            FieldProblem(
                "link",
                "the host of the link “https://аpple.com/pay” looks like a spoof: "
                "“аpple” mixes letters of different scripts (U+0430 CYRILLIC SMALL LETTER A (Cyrillic), "
                "U+0070 LATIN SMALL LETTER P (Latin)), as look-alike spoofs do; type the word in one script",
            )
        ],
    ),
    ({"account": "Acme", "mail": "ana@acme.io\nBcc: x"}, [FieldProblem("mail", SINGLE_LINE)]),
    ({"account": "Acme", "region": "EMEA\x00"}, [FieldProblem("region", NUL)]),
    ({"account": "Acme", "amount": "5\x00"}, [FieldProblem("amount", NUL)]),
    ({"account": "\u200b"}, [FieldProblem("account", "is required (text, up to 3000 characters)")]),
]


@pytest.mark.parametrize(("fields", "problems"), CONTRACT)
def test_the_contract_names_the_field_and_the_character(
    deal: Governance, fields: dict[str, str], problems: list[FieldProblem]
) -> None:
    with pytest.raises(ContractError) as caught:
        deal.validate_fields(deal.kind("deal"), fields, at=AT)
    assert caught.value.problems == problems


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"account": "Evil\u200b Corp"}, {"account": "Evil Corp"}),
        ({"account": "Evil\u00a0Corp"}, {"account": "Evil Corp"}),
        ({"account": "Acme", "details": " a \r\n b "}, {"account": "Acme", "details": "a\nb"}),
        ({"account": "Acme", "region": "ｅｍｅａ"}, {"account": "Acme", "region": "EMEA"}),
        ({"account": "Acme", "mail": "ana@acme.io\u200b"}, {"account": "Acme", "mail": "ana@acme.io"}),
        ({"account": "Газпром"}, {"account": "Газпром"}),
        ({"account": "東京タワー"}, {"account": "東京タワー"}),
    ],
)
def test_accepted_values_are_stored_normalized(
    deal: Governance, fields: dict[str, str], stored: dict[str, object]
) -> None:
    assert deal.validate_fields(deal.kind("deal"), fields, at=AT) == stored


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ('account="Evil\x00Corp"', [FieldProblem("account", NUL)]),
        ('account="Acme\n*Amount pct:* 5"', [FieldProblem("account", SINGLE_LINE)]),
        (f'account="{CYRILLIC_E_EVIL}"', [FieldProblem("account", SPOOF)]),
    ],
)
def test_slash_text_gets_the_same_answers(deal: Governance, text: str, problems: list[FieldProblem]) -> None:
    with pytest.raises(ContractError) as caught:
        deal.parse_slash_text(deal.kind("deal"), text, at=AT)
    assert caught.value.problems == problems


def outcome(governance: Governance, account: str) -> str | None:
    return resolve(governance, governance.kind("deal"), {"account": account}, requester="U0SAM", at=AT).rule


@pytest.mark.parametrize(
    "account",
    ["Evil Corp", "evil corp", "EVIL CORP", "Evil\u200b Corp", "Evil\u00a0Corp", "Ｅｖｉｌ Ｃｏｒｐ"],
)
def test_a_blocklist_catches_every_spelling(deal: Governance, account: str) -> None:
    stored = deal.validate_fields(deal.kind("deal"), {"account": account}, at=AT)["account"]
    assert isinstance(stored, str)
    assert outcome(deal, stored) == "blocked"


def test_a_look_alike_of_a_blocked_name_goes_to_a_person(deal: Governance) -> None:
    resolution = resolve(deal, deal.kind("deal"), {"account": "Evi1 Corp"}, requester="U0SAM", at=AT)
    assert (resolution.outcome.value, resolution.rules) == ("route", ("blocked",))
    assert resolution.reason == "“Evi1 Corp” looks like “Evil Corp” in rule blocked: a person decides."


def test_a_blocklist_judges_a_stored_value_by_what_it_shows(deal: Governance) -> None:
    # Values stored before normalization still compare by what they show; a stored look-alike goes to a person.
    assert outcome(deal, "Evil\x00 Corp") == "blocked"
    stored = resolve(deal, deal.kind("deal"), {"account": CYRILLIC_E_EVIL}, requester="U0SAM", at=AT)
    assert (stored.outcome.value, stored.rules) == ("route", ("blocked",))
    assert outcome(deal, "Acme") is None


OPERATORS = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text, required: true}
    approvers: ops
    rules:
      - {id: r, when: {account: %s}, decide: approve, reason: r}
"""


@pytest.mark.parametrize(
    ("condition", "account", "holds"),
    [
        ('{eq: "Evil\u00a0Corp"}', "evil corp", True),
        ("{eq: Evil Corp}", "EVIL\u200bCORP", False),  # the zero-width space was no space
        ("{eq: Evil Corp}", "EVIL\u200b CORP", True),
        ("{ne: Evil Corp}", "evil corp", False),
        ("{ne: Evil Corp}", "Acme", True),
        ("{not_in: [Evil Corp, Globex]}", "GLOBEX", False),
        ("{not_in: [Evil Corp]}", "Acme", True),
        ("{contains: EVIL}", "The evil corp", True),
        ('{contains: "evil\u200b"}', "Evil Corp", True),
        ("{contains: evil}", "Acme", False),
        ("{in: [Газпром]}", "газпром", True),
    ],
)
def test_text_operators_compare_case_insensitively(condition: str, account: str, holds: bool) -> None:
    governance = governance_from(OPERATORS % condition)
    assert (outcome(governance, account) == "r") is holds


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('{eq: "Evil\\0Corp"}', f"line 12: kinds.deal.rules[0].when.account.eq: account: {NUL}"),
        ('{in: ["Acme", "Evil\\nCorp"]}', f"line 12: kinds.deal.rules[0].when.account.in: account: {SINGLE_LINE}"),
        ('{contains: "\\0"}', f"line 12: kinds.deal.rules[0].when.account.contains: {NUL}"),
        (
            '{contains: "\\u200b"}',
            "line 12: kinds.deal.rules[0].when.account.contains: contains takes a non-empty text",
        ),
        ('{eq: "\\u0415vil Corp"}', f"line 12: kinds.deal.rules[0].when.account.eq: account: {SPOOF}"),
    ],
)
def test_file_constants_are_checked_like_input(condition: str, message: str) -> None:
    with pytest.raises(GovernanceInvalid) as caught:
        governance_from(OPERATORS % condition)
    assert str(caught.value) == message


# Property tests: every accepted text is in normal form, and nothing but ValueError escapes.
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8")
    | st.sampled_from("\x00\n\r\t\u200b\u200d\u00a0\u2028\u202e\u00ad\ufeff\u3000\u0301 ")
    # default-ignorable and blank-looking characters, lone surrogates, noncharacters
    | st.sampled_from("\u034f\u115f\u1160\u17b4\u180f\u3164\ufe0f\uffa0\u2800\ud800\udcff\ufffe\ufdd0")
    | st.sampled_from(["\U000e0100", "\U000e0041", "\U0001d173", "\U0001fffe"])
)
#: Characters no accepted text may hold: a sample of Default_Ignorable_Code_Point (DerivedCoreProperties.txt)
#: and the blank-looking characters; categories Cf, Cs and Cc are checked by category.
HIDDEN = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180f\u3164\ufe00\ufe0f\uffa0\u2800\U000e0100\U000e0041")


def _is_normal(text: str, *, multiline: bool) -> bool:
    return (
        unicodedata.is_normalized("NFKC", text)
        and not any(unicodedata.category(c) in ("Cf", "Cs") or c in HIDDEN for c in text)
        and not any(0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE for c in text)
        and not any(unicodedata.category(c) == "Cc" and not (multiline and c == "\n") for c in text)
        and all(line == line.strip() and "  " not in line for line in text.split("\n"))
    )


@settings(max_examples=1500, deadline=None)
@given(TEXTS, st.booleans())
def test_any_accepted_text_is_normalized_and_stays_so(raw: str, multiline: bool) -> None:
    try:
        text = normalize_text(raw, multiline=multiline)
    except ValueError:
        return
    assert _is_normal(text, multiline=multiline)
    assert normalize_text(text, multiline=multiline) == text


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(st.sampled_from(["account", "details", "link", "mail", "region"]), TEXTS, max_size=3))
def test_the_contract_raises_nothing_but_its_error(fields: dict[str, str]) -> None:
    governance = governance_from(FILE)
    try:
        values = governance.validate_fields(governance.kind("deal"), fields, at=AT)
    except ContractError:
        return
    for name, value in values.items():
        assert isinstance(value, str)
        assert _is_normal(value, multiline=name == "details")
        assert mixed_script_problem(value) is None


@settings(max_examples=800, deadline=None)
@given(TEXTS)
def test_slash_text_raises_nothing_but_the_contract_error(text: str) -> None:
    governance = governance_from(FILE)
    with contextlib.suppress(ContractError):
        governance.parse_slash_text(governance.kind("deal"), f"account={text}", at=AT)


@settings(max_examples=800, deadline=None)
@given(TEXTS)
def test_comparison_key_never_raises_and_ignores_case(text: str) -> None:
    assert isinstance(comparison_key(text), str)
    assert comparison_key(text.casefold()) == comparison_key(text)


FILE_TESTS = (
    FILE
    + """    tests:
      - {fields: {account: "EVIL\\u00a0corp"}, expect: reject, rule: blocked}
      - {fields: {account: "Evil\\u200b Corp"}, expect: reject, rule: blocked}
      - {fields: {account: "Evil\\0Corp"}, expect: reject, rule: blocked}
      - {fields: {account: "\\u0415vil Corp"}, expect: route}
"""
)


def test_governance_file_tests_see_the_same_text() -> None:
    results = run_file_tests(governance_from(FILE_TESTS), now=AT)
    assert [r.failures for r in results] == [
        (),
        (),
        (f"fields are not valid: account: {NUL}",),
        (f"fields are not valid: account: {SPOOF}",),
    ]
