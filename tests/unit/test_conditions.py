"""Every operator against every field type it applies to, and a refusal for those it does not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.domain.condition_compiler import compile_condition
from bot.domain.conditions import OPERATORS, ConditionError, LeafTrace, MatchPlan, Op
from bot.domain.fields import FieldSpec, FieldType

FIELDS = {
    "t": FieldSpec(type=FieldType.TEXT),
    "n": FieldSpec(type=FieldType.NUMBER),
    "m": FieldSpec(type=FieldType.MONEY, currency="EUR"),
    "c": FieldSpec(type=FieldType.CHOICE, options=("emea", "amer", "apac")),
    "mc": FieldSpec(type=FieldType.MULTI_CHOICE, options=("web", "email", "press")),
    "b": FieldSpec(type=FieldType.BOOL),
    "d": FieldSpec(type=FieldType.DATE),
    "dt": FieldSpec(type=FieldType.DATETIME),
    "du": FieldSpec(type=FieldType.DURATION),
    "u": FieldSpec(type=FieldType.URL),
    "e": FieldSpec(type=FieldType.EMAIL),
    "usr": FieldSpec(type=FieldType.USER),
    "ch": FieldSpec(type=FieldType.CHANNEL),
}
NAME_OF = {spec.type: name for name, spec in FIELDS.items()}
GROUPS = ["finance", "legal"]
D = date(2026, 3, 4)
DT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def truth(when: dict[str, Any], facts: dict[str, Any]) -> bool | None:
    return compile_condition(when, fields=FIELDS, groups=GROUPS, tz=UTC).truth(facts)


# (field, operator, expected, actual, result)
CASES: list[tuple[str, str, Any, Any, bool]] = [
    # text
    ("t", "eq", "Acme", "Acme", True),
    ("t", "eq", "Acme", "acme", True),  # text compares case-insensitively (bot.domain.text)
    ("t", "eq", "Acme", "Acne", False),
    ("t", "ne", "Acme", "Globex", True),
    ("t", "ne", "Acme", "Acme", False),
    ("t", "in", ["Acme", "Globex"], "Globex", True),
    ("t", "in", ["Acme"], "Initech", False),
    ("t", "not_in", ["Acme"], "Initech", True),
    ("t", "not_in", ["Acme"], "Acme", False),
    ("t", "contains", "urgent", "very urgent deal", True),
    ("t", "contains", "urgent", "calm", False),
    ("t", "matches", "^PO-\\d+$", "PO-123", True),
    ("t", "matches", "^PO-\\d+$", "PO-12x", False),
    ("t", "set", True, "x", True),
    # number and money
    ("n", "eq", 5, 5, True),
    ("n", "eq", 5, 5.5, False),
    ("n", "ne", 5, 6, True),
    ("n", "ne", 5, 5, False),
    ("n", "lt", 10, 9.9, True),
    ("n", "lt", 10, 10, False),
    ("n", "lte", 10, 10, True),
    ("n", "lte", 10, 10.1, False),
    ("n", "gt", 40, 41, True),
    ("n", "gt", 40, 40, False),
    ("n", "gte", 40, 40, True),
    ("n", "gte", 40, 39, False),
    ("n", "in", [1, 2, 3], 2, True),
    ("n", "in", [1, 2, 3], 4, False),
    ("n", "not_in", [1, 2], 3, True),
    ("n", "not_in", [1, 2], 1, False),
    ("n", "between", [5, 10], 5, True),
    ("n", "between", [5, 10], 10, True),
    ("n", "between", [5, 10], 10.5, False),
    ("n", "set", True, 0, True),
    ("m", "gte", 100000, 100000, True),
    ("m", "lt", 100000, 250000.5, False),
    ("m", "between", [0, 10], 3, True),
    ("m", "in", [10, 20], 20, True),
    ("m", "ne", 10, 10, False),
    # choice
    ("c", "eq", "emea", "emea", True),
    ("c", "eq", "emea", "apac", False),
    ("c", "ne", "emea", "apac", True),
    ("c", "in", ["emea", "amer"], "amer", True),
    ("c", "in", ["emea"], "apac", False),
    ("c", "not_in", ["emea"], "apac", True),
    ("c", "not_in", ["emea"], "emea", False),
    # multi_choice
    ("mc", "contains", "press", ("web", "press"), True),
    ("mc", "contains", "press", ("web",), False),
    ("mc", "set", True, ("web",), True),
    # bool
    ("b", "eq", True, True, True),
    ("b", "eq", True, False, False),
    ("b", "ne", True, False, True),
    # date (absolute)
    ("d", "lt", "2026-03-05", D, True),
    ("d", "lte", date(2026, 3, 4), D, True),
    ("d", "gt", "2026-03-04", D, False),
    ("d", "gte", "2026-03-05", D, False),
    ("d", "eq", "2026-03-04", D, True),
    ("d", "ne", "2026-03-04", D, False),
    ("d", "between", ["2026-03-01", "2026-03-31"], D, True),
    ("d", "between", ["2026-04-01", "2026-04-30"], D, False),
    # datetime
    ("dt", "lt", "2026-03-04T13:00:00+00:00", DT, True),
    ("dt", "gte", "2026-03-04T13:00:00+00:00", DT, False),
    ("dt", "eq", "2026-03-04T12:00:00Z", DT, True),
    ("dt", "between", ["2026-03-04T00:00Z", "2026-03-05T00:00Z"], DT, True),
    # duration
    ("du", "gt", "90d", timedelta(weeks=26), True),
    ("du", "lte", "2w", timedelta(days=14), True),
    ("du", "lt", "8h", timedelta(hours=8), False),
    ("du", "between", ["1d", "1w"], timedelta(days=3), True),
    ("du", "eq", "1w", timedelta(days=7), True),
    ("du", "ne", "1w", timedelta(days=7), False),
    # url and email
    ("u", "contains", "example.com", "https://cdn.example.com/a.png", True),
    ("u", "eq", "https://a.io", "https://b.io", False),
    ("u", "matches", "\\.png$", "https://a.io/x.png", True),
    ("u", "in", ["https://a.io"], "https://a.io", True),
    ("e", "matches", "@example\\.com$", "ana@example.com", True),
    ("e", "matches", "@example\\.com$", "bob@agency.io", False),
    ("e", "not_in", ["x@y.io"], "ana@example.com", True),
    ("e", "contains", "ana", "ana@example.com", True),
    # user and channel
    ("usr", "eq", "U0CMO", "U0CMO", True),
    ("usr", "in", ["U1AB", "U2AB"], "U3AB", False),
    ("usr", "not_in", ["U1AB"], "U3AB", True),
    ("usr", "ne", "U0CMO", "U0CMO", False),
    ("ch", "ne", "C0FIN", "C0MKT", True),
    ("dt", "gt", "2026-03-04T11:59:00Z", DT, True),
    ("dt", "lte", "2026-03-04T11:59:00Z", DT, False),
    ("dt", "ne", "2026-03-04T12:00:00Z", DT, False),
    ("du", "gte", "3d", timedelta(days=2), False),
    ("e", "eq", "ana@example.com", "ana@example.com", True),
    ("e", "in", ["x@y.io"], "ana@example.com", False),
    ("e", "ne", "ana@example.com", "bob@example.com", True),
    ("m", "eq", 10, 10.0, True),
    ("m", "gt", 10, 10.01, True),
    ("m", "lte", 10, 11, False),
    ("m", "not_in", [10, 20], 30, True),
    ("u", "ne", "https://a.io", "https://a.io", False),
    ("u", "not_in", ["https://a.io"], "https://b.io", True),
    ("ch", "eq", "C0FIN", "C0FIN", True),
    ("ch", "in", ["C0FIN"], "C0MKT", False),
    ("ch", "not_in", ["C0FIN"], "C0MKT", True),
]


@pytest.mark.parametrize(("field", "op", "expected", "actual", "result"), CASES)
def test_operator_on_field_type(field: str, op: str, expected: Any, actual: Any, result: bool) -> None:
    assert truth({field: {op: expected}}, {field: actual}) is result


def test_every_operator_that_fits_a_type_is_covered() -> None:
    covered = {(FIELDS[field].type, Op(op)) for field, op, *_ in CASES}
    missing = {(t, op) for t, ops in OPERATORS.items() for op in ops if op is not Op.SET} - covered
    assert not missing


@pytest.mark.parametrize(
    ("field_type", "op"),
    [(t, op) for t in FieldType for op in Op if op not in OPERATORS[t]],
)
def test_operator_that_does_not_fit_the_type_is_a_load_error(field_type: FieldType, op: Op) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition({NAME_OF[field_type]: {op.value: 1}}, fields=FIELDS, groups=GROUPS, tz=UTC)
    ((path, message),) = caught.value.problems
    assert path == (NAME_OF[field_type], op.value)
    assert f"operator {op.value} does not apply to {field_type.value} fields" in message


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ({"n": {"lte": "ten"}}, "expected a number for n"),
        ({"c": {"eq": "mars"}}, "“mars” is not an option of c"),
        ({"b": {"eq": "yes"}}, "expected true or false for b"),
        ({"n": {"between": [10, 5]}}, "between: 10 is larger than 5"),
        ({"n": {"in": 5}}, "in takes a non-empty list"),
        ({"t": {"matches": "("}}, "not a valid regular expression"),
        ({"d": {"lt": "next week"}}, "d: expected a date"),
        ({"nope": {"eq": 1}}, "unknown field “nope”"),
        ({"n": {"approx": 1}}, "unknown operator “approx”"),
        ({"requester": {"eq": "sam"}}, "expected a Slack user id"),
        ({"requester_group": {"in": ["marketing"]}}, "unknown group “marketing”"),
        ({"hour": {"gt": 24}}, "expected an hour from 0 to 23"),
        ({"weekday": {"eq": "someday"}}, "expected a weekday"),
        ({"d": {"lt": "+36h"}}, "a date compares with whole days"),
        ({"all": []}, "all takes a non-empty list"),
    ],
)
def test_wrong_values_are_load_errors(when: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(when, fields=FIELDS, groups=GROUPS, tz=UTC)
    assert fragment in str(caught.value)


def test_missing_field_cannot_be_evaluated_and_not_does_not_flip_it() -> None:
    assert truth({"n": {"lte": 10}}, {}) is None
    assert truth({"not": {"n": {"lte": 10}}}, {}) is None
    assert truth({"n": {"set": False}}, {}) is True
    assert truth({"n": {"set": True}}, {}) is False


def test_combinators_use_three_valued_logic() -> None:
    facts = {"n": 5}
    assert truth({"any": [{"n": {"gt": 1}}, {"m": {"gt": 1}}]}, facts) is True
    assert truth({"any": [{"n": {"gt": 9}}, {"m": {"gt": 1}}]}, facts) is None
    assert truth({"all": [{"n": {"gt": 9}}, {"m": {"gt": 1}}]}, facts) is False
    assert truth({"all": [{"n": {"gt": 1}}, {"m": {"gt": 1}}]}, facts) is None
    assert truth({"not": {"n": {"gt": 9}}}, facts) is True
    assert truth({"n": {"gte": 1, "lte": 9}}, facts) is True
    assert truth({"n": {"gte": 1, "lte": 4}}, facts) is False


def test_shorthand_scalar_means_eq() -> None:
    assert truth({"c": "emea"}, {"c": "emea"}) is True
    assert truth({"c": "emea"}, {"c": "apac"}) is False


def test_requester_group_weekday_and_hour() -> None:
    facts = {"requester": "U0SAM", "requester_group": frozenset({"finance"}), "weekday": "sat", "hour": 19}
    assert truth({"requester": {"in": ["U0SAM", "U0KIM"]}}, facts) is True
    assert truth({"requester_group": {"in": ["legal", "finance"]}}, facts) is True
    assert truth({"requester_group": {"not_in": ["finance"]}}, facts) is False
    assert truth({"requester_group": {"eq": "legal"}}, facts) is False
    assert truth({"weekday": {"in": ["sat", "sun"]}}, facts) is True
    assert truth({"hour": {"between": [8, 18]}}, facts) is False


def test_relative_dates_resolve_against_the_submission() -> None:
    when = {"d": {"lte": "+7d"}}
    facts = {"d": date(2026, 3, 11), "@today": date(2026, 3, 4)}
    assert truth(when, facts) is True
    assert truth(when, {**facts, "d": date(2026, 3, 12)}) is False
    sink: list[LeafTrace] = []
    compile_condition(when, fields=FIELDS, groups=GROUPS, tz=UTC).trace(facts, sink)
    assert sink[0].describe() == "d 2026-03-11 lte +7d (2026-03-11) → true"


def test_trace_records_every_leaf_with_what_it_saw() -> None:
    condition = compile_condition(
        {"any": [{"n": {"lte": 10}}, {"m": {"gte": 100}}]}, fields=FIELDS, groups=GROUPS, tz=UTC
    )
    sink: list[LeafTrace] = []
    assert condition.trace({"n": 25}, sink) is None
    assert [leaf.describe() for leaf in sink] == [
        "n 25 lte 10 → false",
        "m gte 100 → cannot evaluate: m is not set",
    ]


def test_match_plan_returns_matches_in_the_order_given_across_fields_and_trees() -> None:
    def leaf(when: dict[str, Any]) -> Any:
        return compile_condition(when, fields=FIELDS, groups=GROUPS, tz=UTC)

    entries = [
        (leaf({"m": {"gte": 10}}), "first"),
        (leaf({"any": [{"n": {"lte": 1}}, {"m": {"gt": 0}}]}), "second"),
        (leaf({"n": {"lte": 10}}), "third"),
        (leaf({"m": {"lt": 0}}), "never"),
        (leaf({"n": {"gte": 5}}), "fifth"),
        (leaf({"d": {"set": False}}), "sixth"),
    ]
    plan = MatchPlan(entries)
    assert plan.matching({"n": 5, "m": 20}) == ["first", "second", "third", "fifth", "sixth"]
    assert plan.matching({"n": 50}) == ["fifth", "sixth"]
    assert plan.matching({}) == ["sixth"]
