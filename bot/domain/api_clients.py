"""API clients (DESIGN §9): bearer tokens kept only as hashes, and the kinds each client may use.

A token is ``sgf_`` and 43 URL-safe characters (32 random bytes, ``secrets.token_urlsafe``); the
governance file holds only its SHA-256 (``api_clients[].token_sha256``). A presented token is
hashed and compared with every client's hash in constant time (``hmac.compare_digest``), all of
them, so how long the answer takes says nothing about which hash came close.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection, Sequence

from bot.domain.errors import SignoffError
from bot.domain.governance_spec import ApiClientSpec
from bot.domain.spec_errors import did_you_mean

#: What every token starts with, so that one pasted in the wrong place (a log, a chat) is recognisable.
TOKEN_PREFIX = "sgf_"  # noqa: S105  (a public prefix, not a secret)
#: Random bytes in a token: 256 bits, beyond guessing.
TOKEN_BYTES = 32
#: The longest ``Authorization`` token read; a Signoff token is 47 characters.
MAX_TOKEN_LENGTH = 200

Path = tuple[str | int, ...]
Report = Callable[[Path, str], None]


class KindNotAllowed(SignoffError):
    """The client may not file or see requests of this kind (its ``kinds`` in the governance file)."""

    def __init__(self, client: str, kind: str):
        self.client = client
        self.kind = kind
        super().__init__(f"the API client “{client}” may not use kind “{kind}” (api_clients[].kinds)")


class IdempotencyMismatch(SignoffError):
    """An idempotency key already filed a request with another body; nothing new was filed."""

    def __init__(self, key: str, ref: str):
        self.key = key
        self.ref = ref
        super().__init__(
            f"the Idempotency-Key “{key}” already filed {ref} with a different body; "
            "send the same body to get its answer again, or use a new key for a new request"
        )


def new_token() -> str:
    """A fresh random token: ``sgf_`` and 43 URL-safe base64 characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    """The hex SHA-256 of ``token``'s UTF-8 bytes: what ``api_clients[].token_sha256`` holds."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def authenticate(clients: Sequence[ApiClientSpec], token: str) -> ApiClientSpec | None:
    """The client whose ``token_sha256`` is the hash of ``token``, or None.

    Every client's hash is compared (no early return), each in constant time.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    presented = token_sha256(token).encode()
    found = None
    for client in clients:
        if hmac.compare_digest(presented, client.token_sha256.encode()):
            found = client
    return found


def check_api_clients(clients: Sequence[tuple[int, ApiClientSpec]], kinds: Collection[str], fail: Report) -> None:
    """Check the clients against each other and the file's kinds; report each problem at its path.

    ``clients`` are the entries of ``api_clients`` whose shape is valid, with their index. An id
    or a token used twice is an error (a token must name one client), as is a kind the file
    does not declare.
    """
    first_id: dict[str, int] = {}
    first_token: dict[str, int] = {}
    known = sorted(kinds)
    for index, client in clients:
        at: Path = ("api_clients", index)
        if client.id in first_id:
            fail((*at, "id"), f"the id “{client.id}” is already used by api_clients[{first_id[client.id]}]")
        first_id.setdefault(client.id, index)
        if client.token_sha256 in first_token:
            fail(
                (*at, "token_sha256"),
                f"the same token as api_clients[{first_token[client.token_sha256]}]: "
                "each client needs its own token (`signoff api-token` makes one)",
            )
        first_token.setdefault(client.token_sha256, index)
        for position, kind in enumerate(client.kinds):
            if kind not in kinds:
                fail(
                    (*at, "kinds", position),
                    f"there is no kind “{kind}”{did_you_mean(kind, known)} (kinds: {', '.join(known) or 'none'})",
                )
