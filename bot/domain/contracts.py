"""Data contracts: each kind's fields as a Pydantic model, built once when governance loads.

The contract is what the slash-command parser, the modal builder, the engine and exports
agree on. Validation collects every problem at once, each naming its field and what a valid
value looks like, so a requester can fix them all in one go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from bot.domain.fields import FIELD_TYPES, FieldSpec, FieldValue, coerce, render_value
from bot.domain.slash_text import SlashTextError, decode_slack_value, split_slash_text
from bot.domain.text import is_blank


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a request's input. ``field`` is None for problems with the whole text."""

    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ContractError(ValueError):
    """Input that does not satisfy a kind's data contract; ``problems`` lists each one."""

    def __init__(self, kind: str, problems: list[FieldProblem], *, partial_values: Mapping[str, str] | None = None):
        self.kind = kind
        self.problems = problems
        #: What the person typed, to prefill a modal with.
        self.partial_values = dict(partial_values or {})
        super().__init__("; ".join(str(p) for p in problems))


class Contract:
    """The typed fields of one kind."""

    def __init__(self, kind: str, fields: Mapping[str, FieldSpec], *, tz: tzinfo):
        self.kind = kind
        self.fields = dict(fields)
        definitions: dict[str, Any] = {}
        for name, spec in self.fields.items():
            python_type = FIELD_TYPES[spec.type].python_type
            # The validator wraps the optional type, so that an empty value it turns into None
            # is "not given" rather than a value of the wrong type.
            held = python_type if spec.required else python_type | None
            annotation = Annotated[held, BeforeValidator(partial(_coerce_input, spec, tz))]  # type: ignore[valid-type]
            definitions[name] = (annotation, ...) if spec.required else (annotation, None)
        self.model: type[BaseModel] = create_model(
            f"{_camel(kind)}Fields",
            __config__=ConfigDict(extra="forbid", frozen=True),
            **definitions,
        )

    def validate(self, raw: Mapping[str, object]) -> dict[str, FieldValue]:
        """Typed values of the fields that are set, or ``ContractError`` listing every problem."""
        try:
            instance = self.model.model_validate(dict(raw))
        except ValidationError as exc:
            problems = [self._problem(error) for error in exc.errors(include_url=False)]
            raise ContractError(self.kind, problems, partial_values=_as_text(raw)) from None
        return {name: value for name, value in instance.__dict__.items() if value is not None}

    def decode_slash_pairs(self, pairs: Mapping[str, str]) -> dict[str, str]:
        """``key=value`` pairs as Slack sent them, as plain text per field type (not yet validated)."""
        decoded = {}
        for key, value in pairs.items():
            spec = self.fields.get(key)
            decoded[key] = decode_slack_value(value, spec.type if spec else None)
        return decoded

    def parse_slash_text(self, text: str) -> dict[str, FieldValue]:
        """Validate the ``key=value`` part of a command's text; leading words are not allowed."""
        return self.validate(self.decode_slash_text(text))

    def decode_slash_text(self, text: str) -> dict[str, str]:
        """The ``key=value`` pairs of a command's text as plain text, or ``ContractError`` if malformed."""
        try:
            parsed = split_slash_text(text)
        except SlashTextError as exc:
            raise ContractError(self.kind, [FieldProblem(None, decode_slack_value(str(exc), None))]) from None
        if parsed.words:
            words = decode_slack_value(" ".join(parsed.words), None)
            raise ContractError(
                self.kind,
                [FieldProblem(None, f"expected field=value pairs, got “{words}”")],
                partial_values=self.decode_slash_pairs(parsed.pairs),
            )
        return self.decode_slash_pairs(parsed.pairs)

    def usage(self) -> str:
        """One line per field: name, what it takes, and whether it is required."""
        lines = []
        for name, spec in self.fields.items():
            need = "required" if spec.required else "optional"
            lines.append(f"{name}: {spec.describe()} ({need})")
        return "\n".join(lines)

    def _problem(self, error: Mapping[str, Any]) -> FieldProblem:
        loc = error.get("loc", ())
        name = str(loc[0]) if loc else None
        spec = self.fields.get(name) if name else None
        kind_of_error = error.get("type")
        if kind_of_error == "missing" and spec is not None:
            return FieldProblem(name, f"is required ({spec.describe()})")
        if kind_of_error == "extra_forbidden":
            known = ", ".join(self.fields) or "none"
            return FieldProblem(name, f"is not a field of {self.kind} (its fields: {known})")
        message = str(error.get("msg", "is not valid"))
        return FieldProblem(name, message.removeprefix("Value error, "))


def _coerce_input(spec: FieldSpec, tz: tzinfo, raw: object) -> FieldValue | None:
    # An empty value is "not given": required fields then fail as missing, optional ones stay unset.
    if raw is None or (isinstance(raw, str) and is_blank(raw)):
        if spec.required:
            raise ValueError(f"is required ({spec.describe()})")
        return None
    return coerce(spec, raw, tz=tz)


def _as_text(raw: Mapping[str, object]) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else render_value(v) for k, v in raw.items() if v is not None}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Kind"
