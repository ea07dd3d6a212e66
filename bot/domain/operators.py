"""The operators of a ``when`` condition leaf and the families of them a value type takes.

Which operators fit each field type is a facet of that type (``bot.domain.field_types``); the
special subjects (requester, weekday, hour) have theirs in ``bot.domain.conditions``.
"""

from __future__ import annotations

from enum import StrEnum


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    IN = "in"
    NOT_IN = "not_in"
    BETWEEN = "between"
    CONTAINS = "contains"
    MATCHES = "matches"
    SET = "set"


#: Values with an order (numbers, amounts, moments, durations, the hour).
ORDERED = frozenset({Op.EQ, Op.NE, Op.LT, Op.LTE, Op.GT, Op.GTE, Op.IN, Op.NOT_IN, Op.BETWEEN, Op.SET})
#: Text, compared case-insensitively, searched and matched.
TEXTUAL = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.CONTAINS, Op.MATCHES, Op.SET})
#: Values that are equal or not (an option, a person, a channel).
DISCRETE = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.SET})
