"""Inbound Slack surfaces: parse, call one service, answer. ``register`` wires them into a Bolt app."""

from __future__ import annotations

from slack_bolt import App

from bot.services.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    from handlers import commands, errors, home, interactions, previews, suggestions
    from handlers.guard import GuardedApp

    guarded = GuardedApp(app)  # a failed Slack call in any listener is answered, never raised
    commands.register(guarded, runtime)
    interactions.register(guarded, runtime)
    previews.register(guarded, runtime)
    home.register(guarded, runtime)
    suggestions.register(guarded, runtime)
    errors.register(app)
