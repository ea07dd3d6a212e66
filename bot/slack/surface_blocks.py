"""Block Kit for an owner's decision surface: the weekly summary DM and the App Home "Your kinds".

Per kind, two columns — the last 7 days and the last 30 days — of headline figures: requests,
share resolved by governed defaults, human decisions, time to decision (p50 / p90), SLA
breaches, busiest approvers. Kind titles are ``inert_line`` (written by people: no ping, link or
formatting); approvers are
mentioned (in a DM or Home nobody is pinged by it). Within Block Kit's limits by construction:
at most ``MAX_KINDS`` kinds are shown, the rest counted.

The summary then lists the suggested defaults (``suggestion_blocks``, DESIGN §8), each with its
``when`` in words and its evidence, and a **Show YAML** button (``bot.slack.suggestion_view``);
no block at all, not even a heading, when there are none. Rule ids, field names and values are
escaped (``inert_line``): a value may be text a person typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.condition_words import Part, Token
from bot.domain.fields import USER_ID
from bot.domain.suggestions import Suggestion
from bot.domain.surface_summary import Headline, KindHeadlines, OwnerSurface, SuggestedDefault
from bot.slack.blocks import MAX_SECTION_TEXT, Block, clip, escape, inert_line, section
from bot.slack.suggestion_view import SHOW_YAML, suggestion_value

#: Kinds shown per message or Home section (three blocks each); the rest are counted.
MAX_KINDS = 12
#: Suggestions listed in the summary (one block each); a condition is cut at about MAX_CONDITION characters.
MAX_SUGGESTIONS, MAX_CONDITION = 5, 600
CHART_TITLE = "Share resolved by governed defaults, per week (last 30 days)"


def share(value: float) -> str:
    """A share of 0–1 as a whole percentage: ``58 %``."""
    return f"{round(value * 100)} %"


def duration(hours: float) -> str:
    """Wall-clock hours, readably: ``45 min``, ``7.5 h``, ``3.2 d``."""
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def _person(user: str) -> str:
    return f"<@{user}>" if USER_ID.fullmatch(user) else inert_line(user)


def _column(label: str, figures: Headline) -> Block:
    lines = [f"*{label}*", f"Requests: *{figures.requests}*"]
    if figures.requests:
        if figures.share_divisor:
            lines.append(f"Resolved by defaults: *{share(figures.resolved_by_default_share)}*")
        else:
            lines.append("Resolved by defaults: *—* (nothing decided yet)")
        lines.append(f"Human decisions: *{figures.human_decisions}*")
        if figures.human_decisions:
            lines.append(f"Time to decision: p50 {duration(figures.p50_hours)} · p90 {duration(figures.p90_hours)}")
        lines.append(f"SLA breaches: {figures.sla_breaches}")
        if figures.busiest:
            people = ", ".join(f"{_person(a.user)} ({a.decisions})" for a in figures.busiest)
            lines.append(f"Busiest: {people}")
    return {"type": "mrkdwn", "text": clip("\n".join(lines), 2000)}


def kind_blocks(kind: KindHeadlines) -> list[Block]:
    """One kind: its title, then the 7-day and 30-day columns side by side."""
    return [
        section(f"*{inert_line(kind.title)}* `{kind.kind}`"),
        {"type": "section", "fields": [_column("Last 7 days", kind.week), _column("Last 30 days", kind.month)]},
    ]


def _kinds(surface: OwnerSurface) -> list[Block]:
    """The busiest kinds (requests in the last 30 days, most first), at most ``MAX_KINDS``; the
    rest counted, and the idle kinds (no request in 30 days) named in one line."""
    busy, idle = surface.by_activity
    blocks: list[Block] = []
    for kind in busy[:MAX_KINDS]:
        blocks += kind_blocks(kind)
    hidden = len(busy) - MAX_KINDS
    if hidden > 0:
        more = "kind" if hidden == 1 else "kinds"
        blocks.append(_note(f"…and {hidden} more {more} with fewer requests: `signoff report` has them all."))
    if idle:
        names = ", ".join(f"`{k.kind}`" for k in idle)
        lead = "…and " if busy else ""
        noun = "kind" if len(idle) == 1 else "kinds"
        blocks.append(_note(f"{lead}{len(idle)} {noun} with no requests in the last 30 days: {names}"))
    return blocks


def condition_text(words: Sequence[Token], limit: int = MAX_CONDITION) -> str:
    """A ``when`` in words as mrkdwn: field names as code, people as mentions (a DM pings nobody),
    values and names escaped (``inert_line``); cut at a token once ``limit`` characters are shown."""
    shown: list[str] = []
    size = 0
    for token in words:
        if size >= limit:
            shown.append("…")
            break
        text = clip(token.text, limit)
        if token.part is Part.NAME:
            piece = f"`{inert_line(text)}`"
        elif token.part is Part.USER:
            piece = _person(text)
        elif token.part is Part.VALUE:
            piece = inert_line(text)
        else:
            piece = escape(text)
        shown.append(piece)
        size += len(piece)
    return "".join(shown)


def evidence_text(suggestion: Suggestion) -> str:
    """The evidence in plain words: ``People approved 412 of 414 such requests (3 approvers); median
    wait 5.0 h; would have resolved 58 % of this kind's human decisions.``"""
    verb = "approved" if suggestion.decide == "approve" else "rejected"
    agreeing = suggestion.approved if suggestion.decide == "approve" else suggestion.rejected
    people = "approver" if suggestion.approvers == 1 else "approvers"
    return (
        f"People {verb} {agreeing} of {suggestion.support} such requests ({suggestion.approvers} {people}); "
        f"median wait {duration(suggestion.median_wait_hours)}; "
        f"would have resolved {share(suggestion.coverage)} of this kind's human decisions."
    )


def suggestion_block(item: SuggestedDefault) -> Block:
    """One suggestion: what it decides and when, its evidence, and its **Show YAML** button."""
    s = item.suggestion
    verdict = "Approve" if s.decide == "approve" else "Reject"
    head = f"*{verdict}* `{inert_line(s.kind)}` requests when {condition_text(item.condition)}"
    rule = f"Rule `{inert_line(clip(s.rule_id, 80))}`. {evidence_text(s)}"
    value = suggestion_value(s)
    if value is None:  # too large for a button: the command line shows it
        return section(f"{head}\n{rule}\nToo large to show here: `signoff suggest --kind {inert_line(s.kind)}`.")
    block = section(f"{head}\n{rule}")
    button = {"type": "plain_text", "text": "Show YAML", "emoji": False}
    block["accessory"] = {"type": "button", "text": button, "action_id": SHOW_YAML, "value": value}
    return block


def suggestion_blocks(suggestions: Sequence[SuggestedDefault]) -> list[Block]:
    """The suggested defaults, with their evidence; no block at all when there are none."""
    if not suggestions:
        return []
    lead = "*Suggested defaults* — from the last 90 days of decisions, for you to review"
    blocks: list[Block] = [section(f"{lead}; the governance file changes only by a reviewed change.")]
    blocks += [suggestion_block(item) for item in suggestions[:MAX_SUGGESTIONS]]
    return blocks


def _note(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}]}


def surface_summary_blocks(surface: OwnerSurface, *, week: str) -> list[Block]:
    """The weekly DM: a header, each kind's figures, the suggestions (if any), and a pointer to the chart."""
    year, number = week.split("-W")
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Your decision surface, week {int(number)} {year}"}},
        _note("What people and governed defaults decided on the kinds you own, in the last 7 and 30 days."),
    ]
    blocks += _kinds(surface)
    blocks += suggestion_blocks(surface.suggestions)
    blocks.append(_note(f"Chart below: {CHART_TITLE.lower()}. All figures: `signoff report`."))
    return blocks


def surface_summary_text(surface: OwnerSurface, *, week: str) -> str:
    """The notification text (and the fallback where blocks do not show)."""
    requests = sum(k.week.requests for k in surface.kinds)
    return f"Your decision surface for {week}: {requests} request{'s' if requests != 1 else ''} in the last 7 days."


def your_kinds_blocks(surface: OwnerSurface | None) -> list[Block]:
    """App Home's "Your kinds": nothing for someone who owns no kind."""
    if surface is None:
        return []
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Your kinds"}}]
    blocks += _kinds(surface)
    if surface.quiet:
        blocks.append(_note("As of now. No requests in the last 30 days, so no weekly DM until there are."))
    else:
        blocks.append(_note("As of now. Every Monday your kinds had requests, you get these in a DM, with a chart."))
    return blocks
