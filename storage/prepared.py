"""Hot statements run straight on the driver's cursor, compiled once per dialect.

``Connection.execute`` costs ~50-70 µs of Python per statement (execution context, events,
result set-up) where SQLite itself takes a few: on the governed submit and decide paths,
which run several writes per transaction, that is most of their cost. A ``Prepared``
statement is compiled by SQLAlchemy itself (same SQL, same bind types and processors, for
SQLite and PostgreSQL alike) the first time it is used with a set of columns, and then only
binds and executes. It runs inside the connection's transaction, like any other statement;
driver errors come out as SQLAlchemy's ``DBAPIError`` subclasses, as with ``execute``.

Values are bound and results read through the columns' own type processors (JSON, UTC
timestamps, dates, booleans). Statements whose columns have Python-side defaults are refused
(an execution context fills those in): give every column. No expanding (``IN``) parameters.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

_MISSING = object()
#: Compiled variants (dialect, bound columns) kept per statement.
_MAX_VARIANTS = 256


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    #: Per bound parameter, in the order the driver takes them: (name, key, fixed value, processor).
    slots: tuple[tuple[str, str, Any, Callable[[Any], Any] | None], ...]
    row: Callable[..., Any] | None
    #: Per selected column, the processor that turns the driver's value into the column type's.
    results: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A Core statement compiled once per (dialect, bound columns) and run on the DBAPI cursor."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _compile(self, connection: Connection, keys: tuple[str, ...]) -> _Compiled:
        dialect = connection.dialect
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            if len(self._compiled) >= _MAX_VARIANTS:  # e.g. an UPDATE of ever new sets of changed columns
                self._compiled.clear()
            found = self._compiled[(dialect.name, keys)] = _compile(self.statement, dialect, keys)
        return found

    @staticmethod
    def _bind(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = []
        for name, key, fixed, processor in compiled.slots:
            value = params[key] if key in params else params.get(name, fixed)
            if value is _MISSING:
                raise KeyError(f"no value for the bound parameter {key!r}")
            values.append(value if processor is None else processor(value))
        if compiled.positional:
            return values
        return {slot[0]: value for slot, value in zip(compiled.slots, values, strict=True)}

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run a SELECT once with ``params``; its rows as named tuples of the columns' Python values."""
        compiled = self._compile(connection, tuple(params))
        bound = self._bind(compiled, params)
        make, results = compiled.row, compiled.results
        assert make is not None, "rows() runs SELECT statements"

        def fetch(cursor: Any) -> list[Any]:
            cursor.execute(compiled.sql, bound)
            return [
                make(
                    *(value if process is None else process(value) for value, process in zip(raw, results, strict=True))
                )
                for raw in cursor.fetchall()
            ]

        return list(self._call(connection, compiled.sql, bound, fetch))

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run once with ``params``; how many rows it changed."""
        return int(self._run(connection, params, lambda cursor: cursor.rowcount))

    def returning_scalar(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """Run once with ``params``; the first column of the first row it returned, or None."""

        def first(cursor: Any) -> Any:
            row = cursor.fetchone()
            return None if row is None else row[0]

        return self._run(connection, params, first)

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row, in one driver call; every row binds the same columns."""
        compiled = self._compile(connection, tuple(rows[0]))
        bound = [self._bind(compiled, row) for row in rows]
        self._call(connection, compiled.sql, bound, lambda cursor: cursor.executemany(compiled.sql, bound))

    def _run(self, connection: Connection, params: Mapping[str, Any], answer: Callable[[Any], Any]) -> Any:
        compiled = self._compile(connection, tuple(params))
        bound = self._bind(compiled, params)

        def run(cursor: Any) -> Any:
            cursor.execute(compiled.sql, bound)
            return answer(cursor)

        return self._call(connection, compiled.sql, bound, run)

    @staticmethod
    def _call(connection: Connection, sql: str, bound: Any, work: Callable[[Any], Any]) -> Any:
        dbapi = connection.dialect.loaded_dbapi
        cursor = connection.connection.cursor()
        try:
            return work(cursor)
        except dbapi.Error as exc:
            raise DBAPIError.instance(sql, bound, exc, dbapi.Error) from exc
        finally:
            cursor.close()


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    if compiled.escaped_bind_names or compiled.insert_prefetch or compiled.update_prefetch:
        # Python-side column defaults are filled in by an execution context, which this skips.
        raise ValueError(f"not preparable (escaped names or Python-side defaults): {compiled.string}")
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    order = compiled.positiontup if compiled.positional else list(by_name)
    slots = []
    for name in order or ():
        bind = by_name[name]
        fixed = _MISSING if bind.required or bind.callable is not None else bind.value
        slots.append((name, bind.key, fixed, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    if not isinstance(statement, Select):
        return _Compiled(compiled.string, bool(compiled.positional), tuple(slots), None, ())
    columns = list(statement.selected_columns)
    row: Callable[..., Any] = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return _Compiled(compiled.string, bool(compiled.positional), tuple(slots), row, results)
