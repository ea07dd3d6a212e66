"""What the stricter value checks cost: slash-command parsing and contract validation per request.

Run:  python -m bench.bench_parse

For a few realistic ``/request discount …`` texts (the discount kind of
``examples/marketing-ops.yaml``) it measures, in the same run and interleaved:

- after: ``Contract.parse_slash_text`` as shipped: split the text, decode Slack markup per
  field, validate with the kind's Pydantic model, whose validators call ``fields.coerce``
  (numbers through ``bot.domain.numbers``);
- before (baseline): the same split and decode, then the same kind of Pydantic model built
  from the *pre-change* value code copied between the BASELINE markers below
  (``baseline_number``: the ``_number`` that dropped every ``,`` and ``_``; ``baseline_text``),
  exactly as the contract was built before (validator inside the optional type).

It prints µs per request of each (best of 41 interleaved rounds) and the after/before ratio. Target (issue 9): the
stricter checks cost at most 20 % more (ratio ≤ 1.20).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from bot.domain.contracts import Contract
from bot.domain.field_types import FIELD_TYPES
from bot.domain.fields import FieldSpec, FieldType, FieldValue, coerce
from bot.domain.slash_text import decode_slack_value, split_slash_text
from bot.governance_file import load_governance_file

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "marketing-ops.yaml"

REQUESTS = {
    "small": "account=Acme amount_pct=5 region=emea",
    "money": 'account="Acme Corp" amount_pct=12.5 deal_value="EUR 150,000.00" region=amer',
    "full": (
        "account=<https://globex.example|Globex> amount_pct=25 deal_value=48000 region=apac "
        'justification="Multi-year renewal; &lt;see&gt; the deck from <@U0SAM|sam>"'
    ),
}


# --- BASELINE: the value code as it was before issue 9 (copied from bot/domain/fields.py) --------------


def baseline_show(raw: object) -> str:
    text = repr(raw) if not isinstance(raw, str) else f"“{raw}”"
    return text if len(text) <= 60 else text[:57] + "…”"


def baseline_text(spec: FieldSpec, raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected text, got {baseline_show(raw)}")
    text = str(raw)
    limit = spec.max_length or 3000
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (got {len(text)})")
    if spec.pattern is not None and re.fullmatch(spec.pattern, text) is None:
        raise ValueError(f"{baseline_show(text)} does not match the required pattern {spec.pattern}")
    return text


def baseline_number(spec: FieldSpec, raw: object) -> int | float:
    value: int | float
    if isinstance(raw, bool):
        raise ValueError(f"expected {spec.describe()}, got {raw!r}")
    if isinstance(raw, int | float):
        value = raw
    elif isinstance(raw, str):
        cleaned = raw.replace("_", "").replace(",", "")
        if spec.type is FieldType.MONEY and spec.currency and cleaned.upper().startswith(spec.currency):
            cleaned = cleaned[3:].strip()
        cleaned = cleaned.removesuffix("%").strip()
        try:
            value = int(cleaned)
        except ValueError:
            try:
                value = float(cleaned)
            except ValueError:
                raise ValueError(f"expected {spec.describe()}, got {baseline_show(raw)}") from None
    else:
        raise ValueError(f"expected {spec.describe()}, got {baseline_show(raw)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected {spec.describe()}, got {baseline_show(raw)}")
        if value.is_integer() and abs(value) < 2**53:
            value = int(value)
    if spec.integer and not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {baseline_show(raw)}")
    if spec.min is not None and value < spec.min:
        raise ValueError(f"must be at least {spec.min:g} (got {value:g})")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"must be at most {spec.max:g} (got {value:g})")
    return value


def baseline_coerce_input(spec: FieldSpec, tz: tzinfo, raw: object) -> FieldValue | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            raise ValueError("is required")
        return None
    if isinstance(raw, str):
        raw = raw.strip()
    if spec.type is FieldType.TEXT:
        return baseline_text(spec, raw)
    if spec.is_numeric:
        return baseline_number(spec, raw)
    return coerce(spec, raw, tz=tz)  # choice and the rest: unchanged by issue 9's value items


def baseline_model(contract: Contract, tz: tzinfo) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for name, spec in contract.fields.items():
        python_type = FIELD_TYPES[spec.type].python_type
        annotation = Annotated[python_type, BeforeValidator(partial(baseline_coerce_input, spec, tz))]  # type: ignore[valid-type]
        definitions[name] = (annotation, ...) if spec.required else (annotation | None, None)
    return create_model("BaselineFields", __config__=ConfigDict(extra="forbid", frozen=True), **definitions)


def baseline_parse(contract: Contract, model: type[BaseModel], text: str) -> dict[str, Any]:
    pairs = split_slash_text(text).pairs
    decoded = {
        k: decode_slack_value(v, contract.fields[k].type if k in contract.fields else None) for k, v in pairs.items()
    }
    try:
        instance = model.model_validate(decoded)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    return {name: value for name, value in instance.__dict__.items() if value is not None}


# --- END BASELINE ------------------------------------------------------------------------------------------


def per_call_us(function: Callable[[], object], *, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def compare(after: Callable[[], object], before: Callable[[], object], *, rounds: int = 41) -> tuple[float, float]:
    """µs per call of each: the best of ``rounds`` alternating rounds of about 5 ms.

    The best round is the one least disturbed by other work on the machine; alternating
    after and before exposes both to the same conditions.
    """
    calls = 1
    while per_call_us(after, calls=calls) * calls < 5_000:
        calls *= 2
    afters, befores = [], []
    for _ in range(rounds):
        afters.append(per_call_us(after, calls=calls))
        befores.append(per_call_us(before, calls=calls))
    return min(afters), min(befores)


def check_same(contract: Contract, model: type[BaseModel], texts: Mapping[str, str]) -> None:
    for name, text in texts.items():
        assert contract.parse_slash_text(text) == baseline_parse(contract, model, text), name


def main() -> None:
    governance = load_governance_file(EXAMPLE)
    contract = governance.kind("discount").contract
    model = baseline_model(contract, governance.tz)
    check_same(contract, model, REQUESTS)
    print("µs per request: split + decode + validate the discount kind of examples/marketing-ops.yaml")
    print("{:>8} {:>10} {:>11} {:>7}".format("request", "after µs", "before µs", "ratio"))
    ratios = []
    for name, text in REQUESTS.items():
        after, before = compare(
            partial(contract.parse_slash_text, text), partial(baseline_parse, contract, model, text)
        )
        ratios.append(after / before)
        print(f"{name:>8} {after:>10.2f} {before:>11.2f} {after / before:>6.2f}x")
    worst = max(ratios)
    verdict = "within" if worst <= 1.20 else "OVER"
    print(f"worst after/before ratio: {worst:.2f}x ({verdict} the 1.20x budget)")


if __name__ == "__main__":
    main()
