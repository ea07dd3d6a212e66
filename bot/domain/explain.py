"""A resolution explained in plain text: the outcome, why, the steps, and every rule checked."""

from __future__ import annotations

from bot.domain.governance import Governance
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import Resolution


def describe_outcome(governance: Governance, resolution: Resolution) -> str:
    """One line: what happened to the request (``approved by rule small-discount``)."""
    kind = governance.kind(resolution.kind)
    if resolution.outcome is Outcome.ROUTE:
        steps = " and ".join(
            f"{step.group} ({step.approvals} approval{'s' if step.approvals != 1 else ''})" for step in resolution.steps
        )
        return f"needs people: {steps}"
    verb = "approved" if resolution.outcome is Outcome.APPROVE else "rejected"
    return f"{verb} by rule {resolution.rule} (owner {kind.owner})"


def render_explanation(governance: Governance, resolution: Resolution) -> str:
    kind = governance.kind(resolution.kind)
    when = resolution.at.astimezone(governance.tz)
    lines = [
        f"{kind.title} ({kind.name}), requested by {resolution.requester} at {when:%Y-%m-%d %H:%M %Z}",
        f"Outcome: {describe_outcome(governance, resolution)}",
        f"Why: {resolution.reason}",
        "Rules:",
    ]
    for rule in resolution.trace:
        mark = "✓" if rule.matched else ("?" if any(c.result is None for c in rule.conditions) else "✗")
        mark = "≈" if rule.in_doubt else mark  # only by a look-alike: a person decides (shadow: no verdict)
        note = f" — {rule.note}" if rule.note and rule.matched else ""
        mode = ", shadow: never decides" if rule.shadow else ""
        lines.append(f"  {mark} {rule.rule} ({rule.effect}{mode}){note}")
        if not rule.conditions:
            lines.append("      always applies")
        lines.extend(f"      {condition.describe(shadow=rule.shadow)}" for condition in rule.conditions)
    if resolution.traced.untraced:
        lines.append(f"  … {resolution.traced.summary()}")
    if not resolution.trace:
        lines.append("  (this kind has no rules: every request goes to people)")
    lines.extend(f"Shadow: {verdict.describe()}" for verdict in resolution.shadow)
    lines.append(f"Governance: {resolution.governance[:12]}")
    return "\n".join(lines)
