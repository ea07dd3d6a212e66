"""``signoff api-token``: a new bearer token for an HTTP API client, its hash, and the lines to paste (DESIGN §9).

The token is printed once and kept nowhere: the governance file holds only its SHA-256, so a
lost token is replaced by a new one (and the old hash removed), never recovered.
"""

from __future__ import annotations

import argparse
import re
from typing import TextIO

from bot.domain.api_clients import new_token, token_sha256

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def api_token(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print a new token, its ``token_sha256``, and an ``api_clients`` entry for ``--id`` and ``--kind``."""
    bad = [name for name in [args.id, *args.kind] if not _NAME.fullmatch(name)]
    if bad:
        print(
            f"signoff api-token: “{bad[0]}” is not a name: it starts with a-z and uses only a-z, 0-9, - and _",
            file=err,
        )
        return 2
    token = new_token()
    digest = token_sha256(token)
    kinds = ", ".join(args.kind) if args.kind else "KIND"
    print(f"token:        {token}", file=out)
    print(f"token_sha256: {digest}", file=out)
    print("", file=out)
    print("Give the token to the client (sent as `Authorization: Bearer <token>`); Signoff keeps only", file=out)
    print("its hash. Add the client to the governance file, then `signoff check` and reload (SIGHUP):", file=out)
    print("", file=out)
    print("api_clients:", file=out)
    print(f"  - id: {args.id}", file=out)
    print(f"    token_sha256: {digest}", file=out)
    print(f"    kinds: [{kinds}]", file=out)
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``signoff api-token [--id ID] [--kind KIND …]``."""
    parser = commands.add_parser("api-token", help="make a bearer token for an HTTP API client (prints its hash)")
    parser.add_argument("--id", default="my-client", help="the client's id in api_clients (default: my-client)")
    parser.add_argument("--kind", action="append", default=[], help="a kind it may file (repeat for more)")
    parser.set_defaults(run=api_token)
