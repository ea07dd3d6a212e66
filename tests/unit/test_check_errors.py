"""`signoff check` on broken files: every problem named by path, line and a plain message."""

from __future__ import annotations

import textwrap

import pytest

from bot.domain.governance import GovernanceInvalid, LoadProblem
from bot.governance_file import load_governance_text

BASE = """\
version: 1
timezone: Europe/Berlin
groups:
  finance:
    members: [U0FIN1, U0FIN2]
  cmo-office:
    members: [U0CMO]
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100}
      launch: {type: date}
    approvers: finance
    rules:
      - id: small-discount
        when: {amount_pct: {lte: 10}}
        decide: approve
        reason: Small discounts are pre-approved.
"""


def problems_of(text: str) -> list[LoadProblem]:
    with pytest.raises(GovernanceInvalid) as caught:
        load_governance_text(textwrap.dedent(text))
    return caught.value.problems


def broken(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


CASES = [
    pytest.param(
        broken("when: {amount_pct: {lte: 10}}", "when: {amount_pct: {contains: 10}}"),
        (19, "kinds.discount.rules[0].when.amount_pct.contains", "operator contains does not apply to number fields"),
        id="operator-does-not-fit-type",
    ),
    pytest.param(
        broken("when: {amount_pct: {lte: 10}}", "when: {amount: {lte: 10}}"),
        (19, "kinds.discount.rules[0].when.amount", "unknown field “amount” (this kind has: account, amount_pct"),
        id="unknown-field-in-rule",
    ),
    pytest.param(
        broken("when: {amount_pct: {lte: 10}}", "when: {amount_pct: {lte: ten}}"),
        (19, "kinds.discount.rules[0].when.amount_pct.lte", "expected a number for amount_pct, got “ten”"),
        id="value-does-not-fit-type",
    ),
    pytest.param(
        broken("approvers: finance", "approvers: finanse"),
        (16, "kinds.discount.approvers", "unknown group “finanse” — did you mean “finance”?"),
        id="unknown-approver-group",
    ),
    pytest.param(
        broken(
            "        reason: Small discounts are pre-approved.\n",
            "        reason: Small discounts are pre-approved.\n      - {id: small-discount, when: {amount_pct: {gt: 90}}, decide: reject, reason: No.}\n",
        ),
        (22, "kinds.discount.rules[1].id", "rule id “small-discount” is already used by rules[0]"),
        id="duplicate-rule-id",
    ),
    pytest.param(
        broken("    owner: U0FINLEAD", "    owner: finlead"),
        (11, "kinds.discount.owner", "must be a Slack user id such as U012AB3CD"),
        id="owner-not-a-user-id",
    ),
    pytest.param(
        broken("        decide: approve\n", "        decide: approve\n        require: cmo-office\n"),
        (18, "kinds.discount.rules[0]", "a rule has exactly one of decide (approve or reject) or require (a group)"),
        id="decide-and-require",
    ),
    pytest.param(
        broken("    approvers: finance\n", "    approvers: finance\n    escalation: [cmo-office]\n"),
        (17, "kinds.discount.escalation", "unknown key “escalation” — did you mean “escalate”?"),
        id="typo-in-key",
    ),
    pytest.param(
        broken("    owner: U0FINLEAD\n", "    owner: U0FINLEAD\n    category: exception\n"),
        (9, "kinds.discount", "an exception kind is time-boxed: set valid_until (a date field) and/or max_duration"),
        id="exception-not-time-boxed",
    ),
    pytest.param(
        broken("    owner: U0FINLEAD\n", "    owner: U0FINLEAD\n    category: exception\n    valid_until: account\n"),
        (13, "kinds.discount.valid_until", "must name a date field of this kind (date fields: launch)"),
        id="valid-until-not-a-date",
    ),
    pytest.param(
        broken("timezone: Europe/Berlin", "timezone: Europe/Berlni"),
        (2, "timezone", "unknown timezone “Europe/Berlni”"),
        id="unknown-timezone",
    ),
    pytest.param(
        broken("    approvers: finance\n", "    approvers: finance\n    sla: 8 hours\n"),
        (17, "kinds.discount.sla", "expected a duration such as 90s, 15m, 8h, 14d or 2w, got “8 hours”"),
        id="bad-duration",
    ),
    pytest.param(
        broken(
            "  cmo-office:\n    members: [U0CMO]\n", '  cmo-office:\n    members: [U0CMO]\n    digest: "0 25 * * *"\n'
        ),
        (8, "groups.cmo-office.digest", "hour: “25” is not a number from 0 to 23"),
        id="bad-cron",
    ),
    pytest.param(
        broken("      launch: {type: date}", "      launch: {type: date, max: 5}"),
        (15, "kinds.discount.fields.launch", "max does not apply to a date field"),
        id="field-attribute-does-not-fit-type",
    ),
    pytest.param(
        broken("timezone: Europe/Berlin\n", 'timezone: Europe/Berlin\nworking_hours: {from: "08:00", to: 1080}\n'),
        (3, "working_hours.to", 'write times in quotes, e.g. "18:00"'),
        id="unquoted-time",
    ),
    pytest.param(
        broken(
            "        reason: Small discounts are pre-approved.\n",
            "        reason: Small discounts are pre-approved.\n        limit: {sum: account, max: 100, window: 30d}\n",
        ),
        (22, "kinds.discount.rules[0].limit.sum", "must name a number or money field (here: amount_pct)"),
        id="budget-on-text-field",
    ),
    pytest.param(
        broken("  cmo-office:\n", "  finance:\n    members: [U0X1]\n  cmo-office:\n"),
        (6, "groups.finance", "is given twice; the last one would silently win"),
        id="duplicate-key",
    ),
    pytest.param(
        broken("      - id: small-discount\n", "      - id: small-discount\n    x: [\n"),
        (19, "", "the [ … ] opened on line 19 is not closed, or a comma is missing"),
        id="yaml-syntax",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_broken_file_is_refused_with_a_located_message(text: str, expected: tuple[int, str, str]) -> None:
    line, path, fragment = expected
    found = problems_of(text)
    assert any(p.line == line and p.path == path and fragment in p.message for p in found), [str(p) for p in found]


def test_every_problem_is_reported_at_once() -> None:
    text = broken("approvers: finance", "approvers: finanse").replace("{lte: 10}", "{lte: x}")
    assert [p.path for p in problems_of(text)] == [
        "kinds.discount.approvers",
        "kinds.discount.rules[0].when.amount_pct.lte",
    ]


def test_schema_errors_do_not_hide_the_semantic_ones() -> None:
    # Three planted mistakes: one of shape (sla), two that need the whole file.
    text = (
        broken("approvers: finance", "approvers: finanse")
        .replace("{lte: 10}", "{lte: x}")
        .replace("owner: U0FINLEAD", "owner: U0FINLEAD\n    sla: soon")
    )
    assert [p.path for p in problems_of(text)] == [
        "kinds.discount.sla",
        "kinds.discount.approvers",
        "kinds.discount.rules[0].when.amount_pct.lte",
    ]


CONTRACT = """\
  contract:
    title: Contract review
    owner: U0LAWLEAD
    fields: {counterparty: {type: text, required: true}}
    approvers: finance
    escalate: [cmo-offce]
    rules:
      - {id: no-acme, when: {counterparty: {eq: 5}}, decide: reject, reason: No.}
      - {id: broken, decide: maybe, reason: Hm.}
"""


def test_every_kind_and_group_is_checked_past_the_first_broken_one() -> None:
    text = (
        BASE.replace("members: [U0CMO]", "members: [cmo]")
        .replace("approvers: finance", "approvers: finanse")
        .replace("      launch: {type: date}", "      launch: {type: date, max: 5}")
    ) + CONTRACT
    found = [(p.line, p.path) for p in problems_of(text)]
    assert found == [
        (7, "groups.cmo-office.members[0]"),  # shape
        (15, "kinds.discount.fields.launch"),  # shape: the kind's rules cannot be checked without its fields
        (16, "kinds.discount.approvers"),  # semantic, in the same broken kind
        (27, "kinds.contract.escalate[0]"),  # semantic, in the next kind
        (29, "kinds.contract.rules[0].when.counterparty.eq"),  # semantic, next to a broken rule
        (30, "kinds.contract.rules[1].decide"),  # shape
    ], [str(p) for p in problems_of(text)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "approvers: finance",
            "approvers: {group: finance, approvals: 4}",
            (16, "kinds.discount.approvers", "needs 4 approvals but only 3 people can ever approve"),
        ),
        (
            "approvers: finance",
            "approvers: [cmo-office, {group: finance, approvals: 4}]",
            (16, "kinds.discount.approvers[1]", "(finance and the owner): lower approvals or add members"),
        ),
        (
            "        decide: approve\n",
            "        require: {group: cmo-office, approvals: 3}\n",
            (20, "kinds.discount.rules[0].require", "needs 3 approvals but only 2 people can ever approve"),
        ),
    ],
)
def test_a_quorum_that_can_never_be_met_is_an_error(old: str, new: str, expected: tuple[int, str, str]) -> None:
    line, path, fragment = expected
    found = problems_of(broken(old, new))
    assert any(p.line == line and p.path == path and fragment in p.message for p in found), [str(p) for p in found]


def test_the_escalation_chain_counts_towards_a_quorum() -> None:
    text = broken(
        "    approvers: finance\n", "    approvers: {group: finance, approvals: 4}\n    escalate: [cmo-office]\n"
    )
    assert load_governance_text(text).warnings == ()


def test_a_reject_rule_without_when_is_a_warning_not_an_error() -> None:
    text = BASE + "      - {id: freeze, decide: reject, reason: Frozen until Q3.}\n"
    governance = load_governance_text(text)
    (warning,) = governance.warnings
    assert (warning.line, warning.path, warning.severity) == (22, "kinds.discount.rules[1]", "warning")
    assert "no `when`: it rejects every discount request" in warning.message


def test_a_warning_is_listed_with_the_errors_of_a_broken_file() -> None:
    text = broken("approvers: finance", "approvers: finanse") + "      - {id: freeze, decide: reject, reason: No.}\n"
    assert [(p.path, p.severity) for p in problems_of(text)] == [
        ("kinds.discount.approvers", "error"),
        ("kinds.discount.rules[1]", "warning"),
    ]


def test_warn_before_longer_than_half_the_exception_is_a_warning() -> None:
    text = broken(
        "    owner: U0FINLEAD\n",
        "    owner: U0FINLEAD\n    category: exception\n    max_duration: 4h\n    warn_before: 3h\n",
    )
    (warning,) = load_governance_text(text).warnings
    assert warning.path == "kinds.discount.warn_before"
    assert "3h is more than half of max_duration (4h): the warning comes halfway through, 2h before the end" in (
        warning.message
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            "version: 1\ngroups:\n  finance:\n    members: [U0FIN1]\n   channel: C0FIN\n",
            5,
            "the indentation does not line up with the block that starts on line 3",
            id="bad-indentation",
        ),
        pytest.param(
            "version: 1\ngroups:\n  finance:\n    members: [U0FIN1]\nkinds:\n  a:\n    title: Discount: big\n",
            7,
            "a mapping value is not allowed here — check the indentation or quote the value",
            id="colon-in-value",
        ),
        pytest.param(
            'version: 1\ngroups:\n  finance:\n    channel: "C0FIN\n    members: [U0FIN1]\nkinds: {}\n',
            4,
            "a quote opened on line 4 is never closed",
            id="unclosed-quote",
        ),
        pytest.param(
            "version: 1\ngroups:\n  finance:\n\tmembers: [U0FIN1]\n",
            4,
            "a tab character: YAML indents with spaces only",
            id="tab",
        ),
        pytest.param(
            "version: 1\ngroups:\n  finance:\n    members: [U0FIN1, U0FIN2\n    channel: C0FIN\n",
            4,
            "the [ … ] opened on line 4 is not closed, or a comma is missing",
            id="unclosed-bracket",
        ),
        pytest.param(
            "version: 1\nkinds:\n  a: [\n",
            3,
            "the [ … ] opened on line 3 is not closed: the file ends inside it",
            id="file-ends-inside-a-bracket",
        ),
        pytest.param(
            "version: 1\ngroups:\n  finance: {members: [U0FIN1],\n",
            3,
            "the { … } opened on line 3 is not closed: the file ends inside it",
            id="file-ends-inside-a-brace",
        ),
        pytest.param(
            "version: 1\nkinds: {}\ngroups:\n  finance: {members: [U0FIN1]}\n  finance: {members: [U0FIN2]}\n",
            5,
            "is given twice; the last one would silently win",
            id="duplicate-key",
        ),
    ],
)
def test_yaml_syntax_errors_name_the_line_in_plain_words(text: str, line: int, message: str) -> None:
    found = problems_of(text)
    (problem,) = [p for p in found if p.line == line]
    assert problem.message.startswith(message), [str(p) for p in found]
    assert "<block" not in problem.message and "scanning" not in problem.message


LATER_RULE = (
    '      - id: big\n        when: {amount_pct: {gt: 50}}\n        decide: reject\n        reason: "Too big."\n'
)


@pytest.mark.parametrize("quote", ['"', "'"])
def test_an_unclosed_quote_is_named_where_it_opens_whatever_the_quote(quote: str) -> None:
    # A later quote of the same kind closes it: YAML reads on and fails lines further down.
    later = LATER_RULE.replace('"', quote)
    text = broken("reason: Small discounts", f"reason: {quote}Small discounts") + later
    (problem,) = problems_of(text)
    assert (problem.line, problem.path) == (21, ""), str(problem)
    assert problem.message.startswith("a quote opened on line 21 is never closed"), str(problem)


@pytest.mark.parametrize(
    ("value", "line", "fragment"),
    [
        pytest.param("!foo {type: date}", 15, "the YAML tag !foo is not allowed", id="local-tag"),
        pytest.param(
            "!!python/object/apply:os.system [ls]",
            15,
            "the YAML tag !!python/object/apply:os.system is not allowed",
            id="python-tag",
        ),
        pytest.param("!!int abc", 15, "“abc” cannot be read as int", id="bad-int"),
        pytest.param("!!binary zz", 15, "the YAML tag !!binary is not allowed", id="bad-binary"),
        pytest.param("{type: date, max: 2024-02-30}", 15, "“2024-02-30” cannot be read as timestamp", id="bad-date"),
    ],
)
def test_a_value_yaml_cannot_build_is_a_located_problem(value: str, line: int, fragment: str) -> None:
    (problem,) = problems_of(broken("launch: {type: date}", f"launch: {value}"))
    assert problem.line == line and fragment in problem.message, str(problem)


def test_an_empty_file_says_how_to_start() -> None:
    (problem,) = problems_of("")
    assert "signoff init" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "timezone: Europe/Berlin",
            "timezone: Europe/Berlin\nworking_hours: sometimes",
            "working_hours: expected `always` or a mapping",
        ),
        ("      launch: {type: date}", "      launch: {type: choice, options: [yes, no]}", "quote such options"),
        (
            "      account: {type: text, required: true}",
            "      Account: {type: text}",
            "the name “Account” must start with a lowercase letter and use only a-z, 0-9 and _",
        ),
        ("approvers: finance", "approvers: [finance, {grup: x}]", "unknown key “grup” — did you mean “group”?"),
        (
            "    approvers: finance\n",
            "    approvers: finance\n    tests: {a: 1}\n",
            "kinds.discount.tests: must be a valid list",
        ),
    ],
)
def test_yaml_pitfalls_get_a_hint(old: str, new: str, expected: str) -> None:
    assert any(expected in str(p) for p in problems_of(broken(old, new))), [
        str(p) for p in problems_of(broken(old, new))
    ]


def test_choices_must_fit_a_slack_menu() -> None:
    options = ", ".join(f"o{n}" for n in range(101))
    found = problems_of(broken("      launch: {type: date}", f"      launch: {{type: choice, options: [{options}]}}"))
    assert any("at most 100 options; this field has 101" in p.message for p in found)


def test_a_key_given_twice_does_not_hide_the_other_problems() -> None:
    text = broken("approvers: finance", "approvers: finanse").replace(
        "    title: Discount approval\n", "    title: Discount approval\n    title: Discounts\n"
    )
    assert [p.path for p in problems_of(text)] == ["kinds.discount.title", "kinds.discount.approvers"]


MANY_MISTAKES = """\
version: 1
timezone: Europe/Berlin
groups:
  finance:
    members: [U0FIN1, U0FIN2]
kinds:
  deal:
    title: Deal desk
    owner: U0FINLEAD
    fields:
      amount: {type: numbr}
      region: {type: choice, options: [emea, amer]}
      account: {type: text, max_length: 0, pattern: "[a-z"}
      note: {type: text}
    approvers: finance
    rules:
      - {id: a, when: {region: {gt: 3}}, decide: approve, reason: R.}
      - {id: a, when: {regoin: emea}, decide: approve, reason: R.}
      - {id: b, when: {note: {matches: "(x"}}, decide: approve, reason: R.}
      - {id: c, when: {any: []}, decide: approve, reason: R.}
      - {id: d, when: {region: {in: emea}}, decide: approve, reason: R.}
      - {id: e, decide: approve, reason: R., limit: {sum: note, max: 5, window: 30d}}
      - {id: f, require: {group: legal}, reason: R.}
      - {id: g, when: {amount: {gt: 5}}, decide: approve, reason: R.}
      - {id: freeze, decide: reject, reason: R.}
      - {id: account-check, when: {account: {eq: x}, note: {between: 3}}, decide: maybe, reason: R.}
      - {id: h, when: {requester_group: {eq: legl}}, decide: approve, reason: R.}
    tests:
      - {fields: {region: emea}, expect: approve, rule: nope}
      - {fields: {region: emea}, expect: approve, rule: account-check, steps: [legl]}
"""


MANY_MISTAKES_FOUND = [
    (11, "kinds.deal.fields.amount.type", "must be"),
    (13, "kinds.deal.fields.account.max_length", "greater than or equal to 1"),
    (13, "kinds.deal.fields.account.pattern", "regular expression"),
    (17, "kinds.deal.rules[0].when.region.gt", "operator gt does not apply to choice fields"),
    (18, "kinds.deal.rules[1].id", "rule id “a” is already used by rules[0]"),
    (18, "kinds.deal.rules[1].when.regoin", "unknown field “regoin”"),
    (19, "kinds.deal.rules[2].when.note.matches", ""),
    (20, "kinds.deal.rules[3].when.any", "non-empty list"),
    (21, "kinds.deal.rules[4].when.region.in", "non-empty list"),
    (22, "kinds.deal.rules[5].limit.sum", "must name a number or money field"),
    (23, "kinds.deal.rules[6].require", "unknown group “legal”"),
    (25, "kinds.deal.rules[8]", "rejects every deal request"),
    (26, "kinds.deal.rules[9].decide", "must be"),
    (26, "kinds.deal.rules[9].when.note.between", ""),
    (27, "kinds.deal.rules[10].when.requester_group.eq", "legl"),
    (29, "kinds.deal.tests[0].rule", "no rule “nope”"),
    (30, "kinds.deal.tests[1].steps", "unknown group “legl”"),
]


@pytest.mark.parametrize(("line", "path", "fragment"), MANY_MISTAKES_FOUND)
def test_independent_mistakes_are_all_reported_in_one_run(line: int, path: str, fragment: str) -> None:
    found = problems_of(MANY_MISTAKES)
    assert any(p.line == line and p.path == path and fragment in p.message for p in found), [str(p) for p in found]


def test_a_broken_field_hides_only_the_conditions_on_that_field() -> None:
    # rule g compares the broken `amount` field: that one (and only that one) is not reported.
    found = problems_of(MANY_MISTAKES)
    assert not any(p.path.startswith("kinds.deal.rules[7]") for p in found), [str(p) for p in found]
    assert [(p.line, p.path) for p in found] == [(line, path) for line, path, _ in MANY_MISTAKES_FOUND]


@pytest.mark.parametrize(
    ("old", "new", "line", "path"),
    [
        ("timezone: Europe/Berlin", 'timezone: Europe/Berlin\ndigest: "0 9 31 2 *"', 3, "digest"),
        ("members: [U0CMO]", 'members: [U0CMO]\n    digest: "0 9 30 feb *"', 8, "groups.cmo-office.digest"),
    ],
)
def test_a_digest_schedule_that_never_fires_is_a_located_error(old: str, new: str, line: int, path: str) -> None:
    found = problems_of(broken(old, new))
    assert [(p.line, p.path) for p in found] == [(line, path)], [str(p) for p in found]
    assert "never fires" in found[0].message


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("  discount:\n", "  " + "d" * 41 + ":\n", "kinds." + "d" * 41, f"the name “{'d' * 41}” is 41 characters long"),
        ("  finance:\n", "  " + "f" * 41 + ":\n", "groups." + "f" * 41, f"the name “{'f' * 41}” is 41 characters long"),
        (
            "      launch:",
            "      " + "l" * 41 + ":",
            "kinds.discount.fields." + "l" * 41,
            f"the name “{'l' * 41}” is 41 characters long",
        ),
        ("- id: small-discount", "- id: " + "s" * 64, "kinds.discount.rules[0].id", "is 64 characters long"),
    ],
    ids=["kind", "group", "field", "rule"],
)
def test_a_name_over_its_length_limit_is_told_the_limit(old: str, new: str, path: str, message: str) -> None:
    found = [p for p in problems_of(BASE.replace(old, new, 1)) if p.path == path]
    assert len(found) == 1 and found[0].message.startswith(message)
    most = 63 if "rules" in path else 40
    assert found[0].message.endswith(f"at most {most} are allowed")


def test_a_name_too_long_and_badly_written_is_told_both() -> None:
    (found,) = [
        p for p in problems_of(BASE.replace("  discount:\n", "  D" + "d" * 40 + ":\n", 1)) if "kinds.D" in p.path
    ]
    assert "is 41 characters long: at most 40 are allowed, and it must start with a lowercase letter" in found.message
