"""Slash-command text → a kind's typed fields, or errors that name each bad field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contracts import ContractError
from bot.domain.fields import FieldType
from bot.domain.governance import Governance
from bot.domain.slash_text import SlashTextError, decode_slack_value, split_slash_text
from tests.conftest import AT, governance_from

ALL_TYPES = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  everything:
    title: Everything
    owner: U0OWNER
    fields:
      account: {type: text, required: true, max_length: 40}
      code: {type: text, pattern: "PO-[0-9]+"}
      pct: {type: number, min: 0, max: 100}
      seats: {type: number, integer: true}
      value: {type: money, currency: EUR}
      region: {type: choice, options: [emea, amer]}
      channels: {type: multi_choice, options: [web, press]}
      urgent: {type: bool}
      start: {type: date}
      at: {type: datetime}
      keep: {type: duration}
      link: {type: url}
      mail: {type: email}
      owner: {type: user}
      room: {type: channel}
    approvers: ops
"""


@pytest.fixture(scope="module")
def governance() -> Governance:
    return governance_from(ALL_TYPES)


def parse(governance: Governance, text: str) -> dict[str, object]:
    return governance.parse_slash_text(governance.kind("everything"), text, at=AT)


def problems(governance: Governance, text: str) -> list[str]:
    with pytest.raises(ContractError) as caught:
        parse(governance, text)
    return [str(p) for p in caught.value.problems]


def test_every_type_parses_from_slack_text(governance: Governance) -> None:
    text = (
        'account="Acme &amp; Sons" code=PO-42 pct=5 seats=12 value="EUR 50,000.00" region=EMEA channels=web,press '
        "urgent=yes start=2026-03-10 at=2026-03-10T09:30 keep=2w link=<https://acme.io/brief|acme.io/brief> "
        "mail=<mailto:ana@acme.io|ana@acme.io> owner=<@U0SAM|sam> room=<#C0DEALS|deals>"
    )
    values = parse(governance, text)
    assert values["account"] == "Acme & Sons"
    assert values["code"] == "PO-42"
    assert values["pct"] == 5 and values["seats"] == 12 and values["value"] == 50000
    assert values["region"] == "emea"
    assert values["channels"] == ("web", "press")
    assert values["urgent"] is True
    assert values["start"] == date(2026, 3, 10)
    assert values["at"].isoformat() == "2026-03-10T09:30:00+00:00"  # type: ignore[union-attr]
    assert values["keep"] == timedelta(weeks=2)
    assert values["link"] == "https://acme.io/brief"
    assert values["mail"] == "ana@acme.io"
    assert values["owner"] == "U0SAM"
    assert values["room"] == "C0DEALS"


def test_unquoted_words_continue_the_previous_value(governance: Governance) -> None:
    assert parse(governance, "account=Acme Corp pct=5")["account"] == "Acme Corp"
    assert parse(governance, "account=“Acme Corp” pct=5")["account"] == "Acme Corp"
    assert parse(governance, "account=customer's pick")["account"] == "customer's pick"


def test_markup_in_text_fields_becomes_what_the_person_saw(governance: Governance) -> None:
    values = parse(governance, "account=ask <@U0SAM|sam> in <#C0X|deals> &lt;b&gt;")
    assert values["account"] == "ask @sam in #deals <b>"


def test_each_bad_field_is_named_with_what_it_expects(governance: Governance) -> None:
    found = problems(
        governance, "pct=150 seats=1.5 region=mars urgent=maybe start=tomorrow link=acme.io owner=sam bogus=1"
    )
    assert "account: is required (text, up to 40 characters)" in found
    assert "pct: must be at most 100 (got 150)" in found
    assert "seats: expected a whole number, got “1.5”" in found
    assert "region: expected one of emea, amer; got “mars”" in found
    assert "urgent: expected yes or no, got “maybe”" in found
    assert "start: expected a date, YYYY-MM-DD, got “tomorrow”" in found
    assert "link: expected a link starting with http:// or https://, got “acme.io”" in found
    assert "owner: expected a person: their Slack user id, such as U0123ABCD (an @mention in /request" in "".join(found)
    assert any(p.startswith("bogus: is not a field of everything") for p in found)
    assert len(found) == 9


def test_text_limits_and_patterns(governance: Governance) -> None:
    assert problems(governance, "account=" + "x" * 41) == ["account: must be at most 40 characters (got 41)"]
    assert problems(governance, "account=A code=42") == ["code: “42” does not match the required pattern PO-[0-9]+"]


def test_an_empty_required_value_is_missing(governance: Governance) -> None:
    assert problems(governance, 'account="" pct=5') == ["account: is required (text, up to 40 characters)"]


def test_invalid_input_keeps_what_was_typed_for_the_modal(governance: Governance) -> None:
    with pytest.raises(ContractError) as caught:
        parse(governance, "pct=5 region=emea")
    assert caught.value.partial_values == {"pct": "5", "region": "emea"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('account="Acme', 'a quote opened at “"Acme” is never closed'),
        ("account=<@U0SAM", "“<@U0SAM” is missing its closing >"),
        ("account=a account=b", "account is given twice"),
        ("9lives=1", "“9lives” is not a field name"),
    ],
)
def test_malformed_text_is_a_clean_error(text: str, message: str) -> None:
    with pytest.raises(SlashTextError, match=message):
        split_slash_text(text)


def test_words_before_the_pairs_are_kept_for_subcommands() -> None:
    parsed = split_slash_text("discount account=Acme")
    assert parsed.words == ("discount",)
    assert split_slash_text("delegate <@U0DANA|dana> until 2026-12-24").words == (
        "delegate",
        "<@U0DANA|dana>",
        "until",
        "2026-12-24",
    )


def test_decoding_depends_on_the_field_type() -> None:
    assert decode_slack_value("<@U0SAM|sam>", FieldType.USER) == "U0SAM"
    assert decode_slack_value("<@U0SAM|sam>", FieldType.TEXT) == "@sam"
    assert decode_slack_value("<https://a.io|a.io>", FieldType.URL) == "https://a.io"
    assert decode_slack_value("<!channel>", FieldType.TEXT) == "@channel"
    assert decode_slack_value("a &amp;lt; b", FieldType.TEXT) == "a &lt; b"


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=120)
    | st.from_regex(r"([a-z_]{1,8}=[\"'<>@|&;a-zA-Z0-9 ]{0,12} ?){0,6}")
)
def test_arbitrary_text_never_raises_anything_but_a_clean_parse_error(text: str) -> None:
    governance = _GOVERNANCE
    try:
        values = parse(governance, text)
    except ContractError as exc:
        assert exc.problems
        assert all(str(problem).strip() for problem in exc.problems)
    else:
        assert set(values) <= set(governance.kind("everything").contract.fields)


_GOVERNANCE = governance_from(ALL_TYPES)


# What Slack sends for each field type → what is stored: the text the person saw, ids for
# people and channels, a link's real target, and never markup that could ping or hide a link.
DECODED = [
    ("<!channel>", FieldType.TEXT, "@channel"),
    ("<!here>", FieldType.TEXT, "@here"),
    ("<!everyone>", FieldType.TEXT, "@everyone"),
    ("<!here|@here> now", FieldType.TEXT, "@here now"),
    ("<!subteam^S0LEGAL|@legal-team>", FieldType.TEXT, "@legal-team"),
    ("<!subteam^S0LEGAL>", FieldType.TEXT, "@S0LEGAL"),
    ("ask <@U0SAM|sam>", FieldType.TEXT, "ask @sam"),
    ("ask <@U0SAM>", FieldType.TEXT, "ask @U0SAM"),
    ("in <#C0DEALS|deals>", FieldType.TEXT, "in #deals"),
    ("in <#C0DEALS>", FieldType.TEXT, "in #C0DEALS"),
    ("see <https://evil.example/pay|bank.example>", FieldType.TEXT, "see bank.example (https://evil.example/pay)"),
    ("<https://evil.example|https://good.example>", FieldType.TEXT, "https://good.example (https://evil.example)"),
    ("<http://acme.io|acme.io>", FieldType.TEXT, "acme.io"),
    ("<https://acme.io/brief>", FieldType.TEXT, "https://acme.io/brief"),
    ("<https://a.io/?x=1&amp;y=2|a &lt;b&gt;>", FieldType.TEXT, "a <b> (https://a.io/?x=1&y=2)"),
    ("<mailto:ana@acme.io|ana@acme.io>", FieldType.TEXT, "ana@acme.io"),
    ("<mailto:ana@evil.example|Ana>", FieldType.TEXT, "Ana (ana@evil.example)"),
    ("<!date^1700000000^{date}|Nov 14>", FieldType.TEXT, "Nov 14"),
    ("a &amp;lt; b &lt;!channel&gt;", FieldType.TEXT, "a &lt; b <!channel>"),
    ("line 1\n<!channel> line 2", FieldType.TEXT, "line 1\n@channel line 2"),
    ("<https://evil.example/pay|bank.example>", FieldType.URL, "https://evil.example/pay"),
    ("<https://acme.io/?a=1&amp;b=2>", FieldType.URL, "https://acme.io/?a=1&b=2"),
    ("<@U0SAM|sam>", FieldType.URL, "@sam"),
    ("<mailto:ana@acme.io|Ana>", FieldType.EMAIL, "ana@acme.io"),
    ("<https://evil.example|ana@acme.io>", FieldType.EMAIL, "ana@acme.io (https://evil.example)"),
    ("<@U0SAM|sam>", FieldType.USER, "U0SAM"),
    ("<!channel>", FieldType.USER, "@channel"),
    ("<#C0DEALS|deals>", FieldType.CHANNEL, "C0DEALS"),
    ("<!here>", FieldType.CHANNEL, "@here"),
    ("<!channel>", FieldType.CHOICE, "@channel"),
]


@pytest.mark.parametrize(("raw", "field_type", "stored"), DECODED)
def test_slack_markup_is_stored_as_what_the_person_saw(raw: str, field_type: FieldType, stored: str) -> None:
    assert decode_slack_value(raw, field_type) == stored


def test_words_and_parse_errors_quote_what_the_person_saw(governance: Governance) -> None:
    (stray,) = problems(governance, "<!channel> account=<https://evil.example|bank>")
    assert stray == "expected field=value pairs, got “@channel”"
    with pytest.raises(ContractError) as caught:
        parse(governance, "<!channel> account=<https://evil.example|bank>")
    assert caught.value.partial_values == {"account": "bank (https://evil.example)"}
