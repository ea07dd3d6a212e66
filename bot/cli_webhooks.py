"""``signoff webhooks list | enable ID | redeliver ID [--since ISO] | test ID`` (DESIGN §9).

Webhook subscriptions as an operator sees them.

``list`` and ``enable`` read the governance file (the subscriptions) and the database (their
state); ``test`` reads the file and the subscription's ``secret_env``, and needs no database.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from bot.cli_governance import load, print_problems
from bot.domain.governance import Governance
from bot.domain.links import redact_links, redact_url
from bot.domain.webhooks import Answer, ReceiverUnreachable, SecretInvalid, classify
from bot.services.webhooks import (
    UnknownWebhook,
    WebhookDisabled,
    enable_webhook,
    ping_webhook,
    redeliver_webhook,
    webhook_states,
)
from bot.settings import environment_value
from bot.webhooks.sender import WebhookSender
from storage.uow import SqlUnitOfWorkFactory

Database = Callable[[TextIO], AbstractContextManager[Engine | None]]


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    config_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    webhooks = commands.add_parser("webhooks", help="webhook subscriptions: state, enable again, send a ping")
    config_option(webhooks)
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True)
    listing = actions.add_parser("list", help="each subscription: enabled or disabled, deliveries pending and dead")
    config_option(listing)
    listing.set_defaults(webhooks_run=_list)
    enable = actions.add_parser("enable", help="enable a subscription that a 410 disabled")
    config_option(enable)
    enable.add_argument("id", help="the subscription's id in the governance file")
    enable.set_defaults(webhooks_run=_enable)
    redeliver = actions.add_parser("redeliver", help="send a subscription's dead deliveries again, same webhook-id")
    config_option(redeliver)
    redeliver.add_argument("id", help="the subscription's id in the governance file")
    redeliver.add_argument(
        "--since", type=_moment, help="only deliveries queued at or after this time (ISO 8601, e.g. 2026-12-01T10:00Z)"
    )
    redeliver.set_defaults(webhooks_run=_redeliver)
    test = actions.add_parser("test", help="send a signed ping now and print the answer")
    config_option(test)
    test.add_argument("id", help="the subscription's id in the governance file")
    test.set_defaults(webhooks_run=_test)


def run(args: argparse.Namespace, config: Path, database: Database, out: TextIO, err: TextIO) -> int:
    governance, problems = load(config)
    if governance is None:
        print_problems(config, problems, err)
        return 1
    code: int = args.webhooks_run(args, governance, database, out, err)
    return code


def _units(engine: Engine | None, governance: Governance, err: TextIO) -> SqlUnitOfWorkFactory | None:
    if engine is None:
        return None  # the database callable said why
    return SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)


def _list(args: argparse.Namespace, governance: Governance, database: Database, out: TextIO, err: TextIO) -> int:
    with database(err) as engine:
        units = _units(engine, governance, err)
        if units is None:
            return 1
        states = webhook_states(uow=units)
    if not states:
        print("no webhooks in the governance file", file=out)
    for state in states:
        status = f"disabled ({state.disabled})" if state.disabled is not None else "enabled"
        line = f"{state.subscription.id}\t{status}\tpending {state.pending}\tdead {state.dead}"
        print(f"{line}\t{redact_url(state.subscription.url)}", file=out)
    return 0


def _enable(args: argparse.Namespace, governance: Governance, database: Database, out: TextIO, err: TextIO) -> int:
    with database(err) as engine:
        units = _units(engine, governance, err)
        if units is None:
            return 1
        try:
            done = enable_webhook(uow=units, name=args.id, now=datetime.now(UTC))
        except UnknownWebhook as exc:
            print(f"signoff webhooks enable: {exc}", file=err)
            return 1
    print(f"webhook {args.id} {'enabled' if done.changed else 'was already enabled'}", file=out)
    if done.dead:
        print(f"{done.dead} dead deliveries wait to be sent again: signoff webhooks redeliver {args.id}", file=out)
    return 0


def _moment(text: str) -> datetime:
    """An ISO 8601 time for ``--since``; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not an ISO 8601 time (e.g. 2026-12-01T10:00Z)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _redeliver(args: argparse.Namespace, governance: Governance, database: Database, out: TextIO, err: TextIO) -> int:
    with database(err) as engine:
        units = _units(engine, governance, err)
        if units is None:
            return 1
        try:
            count = redeliver_webhook(uow=units, name=args.id, now=datetime.now(UTC), since=args.since)
        except (UnknownWebhook, WebhookDisabled) as exc:
            print(f"signoff webhooks redeliver: {exc}", file=err)
            return 1
    print(f"{count} dead deliveries of {args.id} queued again (with their original webhook-id)", file=out)
    return 0


def _test(args: argparse.Namespace, governance: Governance, database: Database, out: TextIO, err: TextIO) -> int:
    """Ping one subscription: its answer on one line (exit 0 on 2xx); any failure is one line on ``err``, exit 1."""
    sender = WebhookSender(environment_value)
    try:
        answer = ping_webhook(subscriptions=governance.webhooks, sender=sender, name=args.id, at=datetime.now(UTC))
    except (UnknownWebhook, SecretInvalid) as exc:
        print(f"signoff webhooks test: {exc}", file=err)
        return 1
    except ReceiverUnreachable as exc:
        print(f"signoff webhooks test: no answer from {args.id}: {_one_line(str(exc), governance)}", file=err)
        return 1
    except Exception as exc:  # whatever the sender meets, the operator reads one line, never a traceback
        said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        print(f"signoff webhooks test: could not send to {args.id}: {_one_line(said, governance)}", file=err)
        return 1
    excerpt = answer.excerpt()
    print(f"HTTP {answer.status}" + (f": {_one_line(excerpt, governance)}" if excerpt else ""), file=out)
    if classify(answer.status) is not Answer.DELIVERED:
        print(f"signoff webhooks test: {args.id} answered HTTP {answer.status}, not 2xx", file=err)
        return 1
    return 0


def _one_line(text: str, governance: Governance) -> str:
    """``text`` on one line, the query values of every link and subscription URL redacted (``redact_links``)."""
    return " ".join(redact_links(text, of=(s.url for s in governance.webhooks)).split())
