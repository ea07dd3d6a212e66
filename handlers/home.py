"""App Home: published when someone opens it — what waits on them, their requests, the figures
of the kinds they own (if any), their delegation."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.services.runtime import Runtime
from bot.services.status import summary_for
from bot.services.surface_summary import owner_figures
from bot.slack.blocks import home_view
from bot.slack.messages import delegation_note
from bot.slack.surface_blocks import your_kinds_blocks
from handlers.guard import GuardedApp
from handlers.payloads import user_of


def register(app: GuardedApp, runtime: Runtime) -> None:
    @app.event("app_home_opened")
    def publish_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = user_of({"event": event})
        summary = summary_for(runtime=runtime, user=user, limit=200)
        delegation = delegation_note(summary.delegated_to, summary.approving_for)
        kinds = your_kinds_blocks(owner_figures(runtime=runtime, owner=user))
        view = home_view(waiting=summary.waiting_on_me, mine=summary.my_requests, delegation=delegation, kinds=kinds)
        client.views_publish(user_id=user, view=view)
