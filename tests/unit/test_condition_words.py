"""A ``when`` in words (``bot.domain.condition_words``): every operator on every field type and
special subject, the combinators, and how values are shown (as cards and receipts show them)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.condition_words import Part, Token, describe_when, plain
from bot.domain.fields import FieldSpec, FieldType
from bot.domain.operators import Op

TZ = ZoneInfo("Europe/Berlin")
FIELDS = {
    "account": FieldSpec(type="text"),
    "amount_pct": FieldSpec(type="number", percent=True),
    "deal_value": FieldSpec(type="money", currency="EUR"),
    "tier": FieldSpec(type="choice", options=["partner", "reseller", "direct"]),
    "regions": FieldSpec(type="multi_choice", options=["emea", "amer", "apac"]),
    "urgent": FieldSpec(type="bool"),
    "until": FieldSpec(type="date"),
    "starts": FieldSpec(type="datetime"),
    "sla": FieldSpec(type="duration"),
    "asset": FieldSpec(type="url"),
    "contact": FieldSpec(type="email"),
    "buddy": FieldSpec(type="user"),
    "room": FieldSpec(type="channel"),
}


def words(when: dict[str, Any]) -> str:
    return plain(describe_when(when, FIELDS, tz=TZ))


LEAVES = [
    # number and money: symbols, numbers as receipts show them
    ({"amount_pct": {"lte": 12}}, "amount_pct ≤ 12"),
    ({"amount_pct": {"lt": 12.5}}, "amount_pct < 12.5"),
    ({"amount_pct": {"gt": 0.0000001}}, "amount_pct > 0.0000001"),
    ({"amount_pct": {"gte": 3}}, "amount_pct ≥ 3"),
    ({"amount_pct": {"eq": 5}}, "amount_pct = 5"),
    ({"amount_pct": 5}, "amount_pct = 5"),
    ({"amount_pct": {"ne": 5}}, "amount_pct ≠ 5"),
    ({"amount_pct": {"in": [5, 10, 15]}}, "amount_pct is 5, 10 or 15"),
    ({"amount_pct": {"not_in": [5]}}, "amount_pct is not 5"),
    ({"amount_pct": {"between": [5, 10]}}, "amount_pct is from 5 to 10"),
    ({"amount_pct": {"set": True}}, "amount_pct is set"),
    ({"deal_value": {"gte": 100000}}, "deal_value ≥ 100000"),
    ({"deal_value": {"lt": 1500.5}}, "deal_value < 1500.5"),
    ({"deal_value": {"set": False}}, "deal_value is not set"),
    # text, url, email: in quotes
    ({"account": {"eq": "Acme"}}, "account is “Acme”"),
    ({"account": "Acme"}, "account is “Acme”"),
    ({"account": {"ne": "Acme"}}, "account is not “Acme”"),
    ({"account": {"in": ["Acme", "Globex"]}}, "account is “Acme” or “Globex”"),
    ({"account": {"not_in": ["Acme", "Globex"]}}, "account is neither “Acme” nor “Globex”"),
    ({"account": {"not_in": ["A", "B", "C"]}}, "account is none of “A”, “B” or “C”"),
    ({"account": {"contains": "corp"}}, "account contains “corp”"),
    ({"account": {"matches": "^A.*"}}, "account matches the pattern “^A.*”"),
    ({"asset": {"contains": "cdn.example.com"}}, "asset contains “cdn.example.com”"),
    ({"contact": {"eq": "dana@example.com"}}, "contact is “dana@example.com”"),
    # choice, multi_choice, bool: as the options and cards read
    ({"tier": {"in": ["partner", "reseller"]}}, "tier is partner or reseller"),
    ({"tier": {"in": ["partner"]}}, "tier is partner"),
    ({"tier": {"eq": "direct"}}, "tier is direct"),
    ({"tier": {"not_in": ["direct", "reseller"]}}, "tier is neither direct nor reseller"),
    ({"regions": {"contains": "emea"}}, "regions includes emea"),
    ({"regions": {"set": True}}, "regions is set"),
    ({"urgent": {"eq": True}}, "urgent is yes"),
    ({"urgent": {"ne": False}}, "urgent is not no"),
    # dates, date-times, durations: ISO, durations as written
    ({"until": {"lte": "2026-12-31"}}, "until ≤ 2026-12-31"),
    ({"until": {"gt": date(2026, 6, 1)}}, "until > 2026-06-01"),
    ({"until": {"between": ["2026-01-01", "2026-03-31"]}}, "until is from 2026-01-01 to 2026-03-31"),
    ({"until": {"lte": "+14d"}}, "until ≤ +14d from the day of submission"),
    ({"starts": {"gte": "2026-06-01T09:00:00+02:00"}}, "starts ≥ 2026-06-01T09:00+02:00"),
    ({"starts": {"lt": "+ 2h"}}, "starts < +2h from the time of submission"),
    ({"sla": {"lte": "36h"}}, "sla ≤ 36h"),
    ({"sla": {"gte": timedelta(days=14)}}, "sla ≥ 2w"),
    ({"sla": {"eq": "90s"}}, "sla = 90s"),
    # people and channels
    ({"buddy": {"eq": "U0DANA"}}, "buddy is U0DANA"),
    ({"buddy": {"in": ["U0DANA", "U0SAM"]}}, "buddy is U0DANA or U0SAM"),
    ({"room": {"ne": "C0SALES"}}, "room is not C0SALES"),
    # the subjects that are not fields
    ({"requester": {"in": ["U0A", "U0B"]}}, "requester is U0A or U0B"),
    ({"requester": {"ne": "U0A"}}, "requester is not U0A"),
    ({"requester_group": {"eq": "finance"}}, "requester is in group finance"),
    ({"requester_group": {"in": ["finance", "legal"]}}, "requester is in group finance or legal"),
    ({"requester_group": {"ne": "finance"}}, "requester is not in group finance"),
    ({"requester_group": {"not_in": ["finance", "legal"]}}, "requester is in neither group finance nor legal"),
    ({"requester_group": {"not_in": ["a", "b", "c"]}}, "requester is in none of the groups a, b or c"),
    ({"weekday": {"in": ["sat", "sun"]}}, "weekday of submission is sat or sun"),
    ({"weekday": {"eq": "mon"}}, "weekday of submission is mon"),
    ({"hour": {"between": [8, 18]}}, "hour of submission is from 8 to 18"),
    ({"hour": {"lt": 8}}, "hour of submission < 8"),
    ({"hour": {"eq": 9}}, "hour of submission = 9"),
]


@pytest.mark.parametrize(("when", "expected"), LEAVES, ids=[e for _, e in LEAVES])
def test_each_operator_on_each_type_reads_as_a_person_would_say_it(when: dict[str, Any], expected: str) -> None:
    assert words(when) == expected


def test_every_operator_fits_some_row_of_the_table() -> None:
    used = {op for when, _ in LEAVES for spec in when.values() if isinstance(spec, dict) for op in spec}
    assert used == {op.value for op in Op}
    typed = {name for when, _ in LEAVES for name in when if name in FIELDS}
    assert {FIELDS[name].type for name in typed} == set(FieldType)


COMBINED = [
    ({"all": [{"amount_pct": {"lte": 12}}, {"tier": {"in": ["partner", "reseller"]}}]},
     "amount_pct ≤ 12 and tier is partner or reseller"),
    ({"amount_pct": {"gte": 2, "lte": 12}}, "amount_pct ≥ 2 and amount_pct ≤ 12"),
    ({"any": [{"amount_pct": {"lte": 5}}, {"tier": "partner"}]}, "amount_pct ≤ 5 or tier is partner"),
    ({"any": [{"amount_pct": {"lte": 5}}, {"tier": "partner"}], "urgent": False},
     "(amount_pct ≤ 5 or tier is partner) and urgent is no"),
    ({"any": [{"all": [{"amount_pct": {"lte": 5}}, {"tier": "partner"}]}, {"urgent": True}]},
     "(amount_pct ≤ 5 and tier is partner) or urgent is yes"),
    ({"any": [{"amount_pct": {"gte": 2, "lte": 12}}, {"urgent": True}]},
     "(amount_pct ≥ 2 and amount_pct ≤ 12) or urgent is yes"),
    ({"not": {"tier": "direct"}}, "not (tier is direct)"),
    ({"not": {"any": [{"tier": "direct"}, {"urgent": True}]}}, "not (tier is direct or urgent is yes)"),
    ({"all": [{"amount_pct": {"lte": 5}}]}, "amount_pct ≤ 5"),
    ({}, "always"),
]  # fmt: skip


@pytest.mark.parametrize(("when", "expected"), COMBINED, ids=[e for _, e in COMBINED])
def test_combinators_join_with_and_or_and_bracket_where_the_reading_would_be_ambiguous(
    when: dict[str, Any], expected: str
) -> None:
    assert words(when) == expected


def test_parts_are_marked_so_slack_can_escape_names_and_values_and_mention_people() -> None:
    described = describe_when({"account": {"eq": "<!channel> *x*"}, "requester": "U0A"}, FIELDS, tz=TZ)
    assert described == (
        Token("account", Part.NAME),
        Token(" is "),
        Token("“<!channel> *x*”", Part.VALUE),
        Token(" and "),
        Token("requester"),
        Token(" is "),
        Token("U0A", Part.USER),
    )


def test_long_text_is_clipped_and_values_the_field_no_longer_reads_are_shown_as_written() -> None:
    clipped = words({"account": {"eq": "x" * 100}})
    assert clipped.startswith("account is “xxx") and clipped.endswith("x…”") and len(clipped) < 75
    assert words({"amount_pct": {"lte": "a lot"}}) == "amount_pct ≤ a lot"  # the file changed under it
    assert words({"gone": {"in": ["a", 2]}}) == "gone is a or 2"  # a field the kind no longer has
    assert words({"amount_pct": {"near": 5}}) == "amount_pct near 5"
