"""Numbers and amounts as people type them: read only what cannot be misread.

The one place that turns text (or a number already typed by YAML or JSON) into the ``int`` or
``float`` a number or money field holds, and back into text. Accepted, and nothing else:

- the digits 0-9, an optional sign (``-`` or ``+``) and one ``.`` as the decimal mark:
  ``1234``, ``-1234.5``, ``0.125``;
- ``,`` as a thousands separator only between well-formed groups of three: ``1,234,567.89``;
- money: the field's own currency code (any case) or its symbol before or after the amount
  (``EUR 1,500.00``, ``1500 EUR``, ``€1500``), and at most the currency's decimal places
  (ISO 4217 minor units: 2 unless the currency says otherwise, 0 for JPY, 3 for KWD);
- number fields declared ``percent: true``: a trailing ``%`` (``12.5%`` is 12.5); on any other
  field ``7%`` is refused, since a count or an amount is not a percentage;
- a ``JsonNumber`` (a number literal of a JSON body, ``bot.domain.json_values``): read from
  the characters the sender wrote, exactly as the same characters in a string would be, so
  ``1.500`` is ambiguous, ``1E3`` an exponent and ``2000.0000000000000001`` too many digits,
  never a float rounded first;
- a ``MachineNumber`` (what Slack's number input sends): ``-?[0-9]+(.[0-9]+)?`` only, with
  ``.`` always the decimal mark, so ``1.500`` there is 1.5 and never ambiguous.

Refused, with a message that shows the accepted forms: ``,`` as a decimal mark and ``.`` as a
thousands separator (``150.000,00``: Signoff never guesses a locale), one separator followed by
exactly three digits (``1,500`` and ``1.500`` are 1500 in one country and 1.5 in another),
``_`` or spaces between digits, exponents (``1e5``), digits other than 0-9 (full-width,
Arabic-Indic), another currency, and more than ``MAX_DIGITS`` digits in all (not counting
leading zeros or trailing zeros after the decimal mark). Within that bound every value is held
exactly: integers are below 10**15 < 2**53, and any decimal of at most 15 significant digits
survives the trip through a float (IEEE 754 double, ``DBL_DIG`` = 15) and back.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.json_values import JsonNumber, show_given

#: The most digits a number may have; see the module docstring for why 15.
MAX_DIGITS = 15
_LIMIT = 10**MAX_DIGITS

#: Decimal places of currencies whose minor unit is not 1/100 (ISO 4217); every other currency has 2.
_MINOR_UNITS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"], 0),
    **dict.fromkeys(["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
#: Symbols accepted for a currency; a symbol shared by several currencies (``¥``, ``kr``) is not listed.
_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "INR": "₹", "ILS": "₪", "KRW": "₩", "NGN": "₦", "UAH": "₴"}

_UNIT = r"[A-Za-z]{3}|[^\s0-9A-Za-z.,+-]"
_SHAPE = re.compile(
    rf"(?P<pre>{_UNIT})?[ ]*(?P<sign>[+-]?)(?P<body>[0-9][0-9.,]*)[ ]*(?P<post>{_UNIT})?",
    re.ASCII,
)
_MACHINE = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_SIMPLE = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_PLAIN = re.compile(r"(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?", re.ASCII)
_GROUPED = re.compile(r"(?P<int>[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.(?P<frac>[0-9]+))?", re.ASCII)
#: One separator after one to three digits, then exactly three: the form two locales read differently.
_AMBIGUOUS = re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}", re.ASCII)


@dataclass(frozen=True)
class MachineNumber:
    """A number written by a machine, not typed as text: Slack's ``number_input`` sends its value
    as ``-?[0-9]+(.[0-9]+)?`` whatever the person's locale, so ``.`` is always the decimal mark.
    ``parse_number`` reads it by that grammar alone, within the same bounds as any value."""

    text: str

    def __str__(self) -> str:
        return self.text


def minor_units(currency: str | None) -> int:
    """Decimal places of an amount in ``currency`` (ISO 4217); 2 when no currency is named."""
    return _MINOR_UNITS.get(currency or "", 2)


@dataclass(frozen=True)
class NumberRules:
    """What one field accepts. ``expected`` is the field's own description (``an amount in EUR``)."""

    expected: str = "a number"
    currency: str | None = None
    money: bool = False
    percent: bool = False

    @property
    def decimals(self) -> int:
        """The most decimal places a value may have."""
        return minor_units(self.currency) if self.money else MAX_DIGITS

    def forms(self) -> str:
        """The accepted forms, in words, for a message."""
        if not self.money:
            examples = "12.5 or 12.5%" if self.percent else "1234.5 or 1,234.5"
        elif self.currency:
            amount = "1,234.50" if self.decimals else "1,234"
            examples = f"{amount.replace(',', '')}, {amount} or {self.currency} {amount}"
        else:
            examples = "1234.50 or 1,234.50" if self.decimals else "1234 or 1,234"
        return f"write digits 0-9 with “.” as the decimal mark and “,” only between groups of three, e.g. {examples}"


def parse_number(raw: object, rules: NumberRules) -> int | float:
    """The value of ``raw`` (text, or an ``int``/``float`` typed by YAML or JSON) under ``rules``.

    Returns an ``int`` when the value is whole, else a ``float`` that holds the written decimal
    exactly (within ``MAX_DIGITS``). Raises ``ValueError`` with a message for the person who
    typed it; nothing else escapes, whatever the input.
    """
    if isinstance(raw, bool):
        raise ValueError(_unreadable(raw, rules))
    if isinstance(raw, int):
        if not -_LIMIT < raw < _LIMIT:
            raise ValueError(_too_long(raw, rules))
        return raw
    if isinstance(raw, float):
        return _typed_float(raw, rules)
    if isinstance(raw, MachineNumber):
        return _parse_machine(raw.text, rules)
    if isinstance(raw, JsonNumber):
        return _parse_json_literal(raw, rules)
    if not isinstance(raw, str):
        raise ValueError(_unreadable(raw, rules))
    return _parse_text(raw.strip(), rules)


def is_machine_number(text: str, *, decimals: bool = True) -> bool:
    """Whether ``text`` is in the machine form a number input sends and shows (``-?[0-9]+(.[0-9]+)?``)."""
    machine = _MACHINE.fullmatch(text)
    return machine is not None and (decimals or machine.group(3) is None)


def _parse_machine(text: str, rules: NumberRules) -> int | float:
    machine = _MACHINE.fullmatch(text) if isinstance(text, str) else None
    if machine is None:
        raise ValueError(f"expected {rules.expected}, got {_show(text)}; a number input sends digits 0-9 and “.”")
    sign, whole, fraction = machine.groups()
    return _value(sign, whole.lstrip("0"), fraction.rstrip("0") if fraction else "", text, rules)


def _parse_json_literal(raw: JsonNumber, rules: NumberRules) -> int | float:
    """A JSON number literal read as the same characters typed as text (the one strict reader)."""
    if "e" in raw.text.lower():
        raise ValueError(f"expected {rules.expected}, got {raw.text}, which has an exponent; {rules.forms()}")
    return _parse_text(raw.text, rules)


def _parse_text(text: str, rules: NumberRules) -> int | float:
    simple = _SIMPLE.fullmatch(text)
    if simple is not None:  # the common case, read without the general machinery below
        sign, whole, fraction = simple.groups()
        if fraction is not None and len(fraction) == 3 and len(whole) <= 3 and whole[0] != "0":
            raise ValueError(_ambiguous(text, sign, f"{whole}.{fraction}", rules))
        return _value(sign, whole.lstrip("0"), fraction.rstrip("0") if fraction else "", text, rules)
    shape = _SHAPE.fullmatch(text)
    if shape is None:
        raise ValueError(_unreadable(text, rules))
    _check_unit(text, shape.group("pre"), shape.group("post"), rules)
    body = shape.group("body")
    if _AMBIGUOUS.fullmatch(body):
        raise ValueError(_ambiguous(text, shape.group("sign"), body, rules))
    digits = _PLAIN.fullmatch(body) or _GROUPED.fullmatch(body)
    if digits is None:
        raise ValueError(_unreadable(text, rules))
    whole = digits.group("int").replace(",", "").lstrip("0")
    fraction = (digits.group("frac") or "").rstrip("0")
    return _value(shape.group("sign"), whole, fraction, text, rules)


def _check_unit(text: str, pre: str | None, post: str | None, rules: NumberRules) -> None:
    if pre is None and post is None:
        return
    if pre is not None and post is not None:
        raise ValueError(_unreadable(text, rules))
    unit = pre or post or ""
    if unit == "%":
        if rules.percent and post == "%":
            return
        if not rules.percent:
            plain = "an amount" if rules.money else "a plain number"
            raise ValueError(f"{_show(text)}: this field takes {plain}, not a percentage; write it without “%”")
        raise ValueError(_unreadable(text, rules))
    if not rules.money:
        raise ValueError(_unreadable(text, rules))
    if rules.currency is None:
        raise ValueError(f"{_show(text)}: this field takes a plain amount, without a currency")
    if unit.upper() != rules.currency and unit != _SYMBOLS.get(rules.currency):
        raise ValueError(f"{_show(text)} is not in {rules.currency}: this field takes amounts in {rules.currency} only")


def _value(sign: str, whole: str, fraction: str, shown: object, rules: NumberRules) -> int | float:
    if len(whole) + len(fraction) > MAX_DIGITS:
        raise ValueError(_too_long(shown, rules))
    if len(fraction) > rules.decimals:
        if rules.decimals == 0:
            raise ValueError(f"expected {rules.expected}, got {_show(shown)}, which is not a whole amount")
        places = f"more than {rules.decimals} decimal places"
        raise ValueError(f"expected {rules.expected}, got {_show(shown)}, which has {places}")
    negative = "-" if sign == "-" else ""
    if not fraction:
        return int(negative + (whole or "0"))
    return float(f"{negative}{whole or '0'}.{fraction}")


def _typed_float(raw: float, rules: NumberRules) -> int | float:
    if not math.isfinite(raw):
        raise ValueError(_unreadable(raw, rules))
    if not -_LIMIT < raw < _LIMIT:
        raise ValueError(_too_long(raw, rules))
    written = format(Decimal(repr(raw)), "f")
    whole, _, fraction = written.lstrip("-").partition(".")
    return _value(written[:1] if raw < 0 else "", whole.lstrip("0"), fraction.rstrip("0"), raw, rules)


def render_number(value: float) -> str:
    """A number as digits, never in exponent form, that ``parse_number`` reads back to the same value.

    Whole floats render as integers (``12.0`` → ``12``); no thousands separators, since
    ``1,500`` would read back as ambiguous, and a value like 1.001 renders as ``1.0010`` so that
    neither Signoff nor a reader used to ``.`` as a thousands separator can take it for 1001.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        text = format(Decimal(repr(value)), "f")
        return text[:1] + _unambiguous(text[1:]) if text.startswith("-") else _unambiguous(text)
    return str(value)


def _ambiguous(text: str, sign: str, body: str, rules: NumberRules) -> str:
    """Name both readings, each written so that it is not ambiguous itself (``1.0010``), when valid here."""
    whole, _, part = body.replace(",", ".").partition(".")
    negative = "-" if sign == "-" else ""
    readings = [f"{negative}{whole}{part}"]
    fraction = part.rstrip("0")
    if len(fraction) <= rules.decimals:
        readings.insert(0, negative + _unambiguous(f"{whole}.{fraction}".rstrip(".")))
    return f"{_show(text)} is ambiguous: write {' or '.join(readings)}"


def _unambiguous(digits: str) -> str:
    # ``1.001`` could be read as 1001; ``1.0010`` cannot, and is the same value.
    return digits + "0" if _AMBIGUOUS.fullmatch(digits) else digits


def _unreadable(raw: object, rules: NumberRules) -> str:
    return f"expected {rules.expected}, got {_show(raw)}; {rules.forms()}"


def _too_long(raw: object, rules: NumberRules) -> str:
    if isinstance(raw, int):
        return f"expected {rules.expected}, got a number with more than {MAX_DIGITS} digits"
    return f"expected {rules.expected}, got {_show(raw)}, which has more than {MAX_DIGITS} digits"


def _show(raw: object) -> str:
    return show_given(raw)
