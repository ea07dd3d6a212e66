"""Pydantic's complaints about the governance file, turned into messages an author can act on.

Unknown keys get "did you mean" and the keys allowed there; names and ids that miss their
pattern say what a good one looks like; YAML's unquoted yes/no booleans are called out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from bot.domain.governance_spec import GovernanceSpec
from bot.domain.json_values import show_given


def did_you_mean(word: str, choices: Mapping[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" — did you mean “{close[0]}”?" if close else ""


_NAME_HINT = "must start with a lowercase letter and use only a-z, 0-9, - and _"
_PATTERN_HINTS = {
    "^[a-z][a-z0-9_]{0,39}$": "must start with a lowercase letter and use only a-z, 0-9 and _",
    "^[a-z0-9][a-z0-9_-]{0,62}$": "must start with a lowercase letter or a digit and use only a-z, 0-9, - and _",
    "^[UW][A-Z0-9]{2,}$": "must be a Slack user id such as U012AB3CD",
    "^[CG][A-Z0-9]{2,}$": "must be a Slack channel id such as C012AB3CD",
    "^[0-9a-f]{64}$": "must be 64 lowercase hex digits: the token_sha256 that `signoff api-token` prints",
    "^[A-Z_][A-Z0-9_]{0,127}$": "must be an environment variable name such as SIGNOFF_WEBHOOK_CRM_SECRET "
    "(A-Z, 0-9 and _)",
}


#: A name pattern's length limit: its last repetition ``{0,N}`` after one first character.
_LIMIT = re.compile(r"\{0,([0-9]+)\}\$$")


def _pattern_message(pattern: str, given: object) -> str:
    """What a name or id that missed ``pattern`` must be; when it is too long, its length and the limit first."""
    hint = _PATTERN_HINTS.get(pattern, _NAME_HINT)
    limit = _LIMIT.search(pattern)
    if limit is None or not isinstance(given, str) or len(given) <= (most := int(limit.group(1)) + 1):
        return hint
    too_long = f"is {len(given)} characters long: at most {most} are allowed"
    return too_long if re.fullmatch(pattern, given[:most]) else f"{too_long}, and it {hint}"


def spec_problem(error: Mapping[str, Any]) -> tuple[tuple[str | int, ...], str]:
    """Pydantic's error about the governance file, in words: (its path in the file, the message)."""
    loc: list[str | int] = list(error.get("loc", ()))
    kind = error.get("type", "")
    message = str(error.get("msg", "is not valid"))
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    if loc and loc[-1] == "[key]":
        loc.pop()
        message = f"the name “{loc[-1]}” {_pattern_message(pattern, loc[-1])}"
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        known = _known_keys(tuple(loc[:-1]))
        key = str(loc[-1])
        message = f"unknown key “{key}”{did_you_mean(key, known)}"
        if known:
            message += f" (allowed here: {', '.join(known)})"
    elif kind == "string_pattern_mismatch":
        message = _pattern_message(pattern, error.get("input"))
    elif kind == "string_type" and isinstance(error.get("input"), bool):
        message = "YAML reads unquoted yes/no/on/off/true/false as a boolean: put this text in quotes"
    elif kind == "int_type":  # strict: YAML's true, "2" and 2.5 are not counts
        given = error.get("input")
        written = "true and false are" if isinstance(given, bool) else f"{show_given(given)} is"
        message = f"must be a whole number written without quotes, such as 2 ({written} not)"
    elif kind == "bool_type":  # strict (preview): "false" and 0 are not booleans
        message = f"must be true or false, written without quotes ({show_given(error.get('input'))} is not)"
    elif kind == "too_short":
        message = "must not be empty"
    else:
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        message = message.replace("Input should be", "must be")
        if kind in ("dict_type", "model_type"):
            message = "must be a mapping (key: value)"
    return tuple(loc), message


def _known_keys(path: tuple[str | int, ...]) -> list[str]:
    """The keys a mapping at ``path`` accepts, walking the spec models (for "did you mean")."""
    annotation: Any = GovernanceSpec
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field else None
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items() if name != "always"]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        args = get_args(annotation)
        if hasattr(annotation, "__metadata__"):
            annotation = args[0]
        elif args and type(None) in args:
            annotation = next(a for a in args if a is not type(None))
        else:
            return annotation
