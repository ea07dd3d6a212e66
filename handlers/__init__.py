"""Inbound Slack surfaces: parse, call one service, answer. ``register`` wires them into a Bolt app."""

from __future__ import annotations

from slack_bolt import App

from bot.services.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    from handlers import commands, errors, home, interactions

    commands.register(app, runtime)
    interactions.register(app, runtime)
    home.register(app, runtime)
    errors.register(app)
