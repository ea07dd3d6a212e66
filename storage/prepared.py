"""Hot write statements run straight on the driver's cursor, compiled once per dialect.

``Connection.execute`` costs ~50-70 µs of Python per statement (execution context, events,
result set-up) where SQLite itself takes a few: on the governed submit and decide paths,
which run several writes per transaction, that is most of their cost. A ``Prepared``
statement is compiled by SQLAlchemy itself (same SQL, same bind types and processors, for
SQLite and PostgreSQL alike) the first time it is used with a set of columns, and then only
binds and executes. It runs inside the connection's transaction, like any other statement;
driver errors come out as SQLAlchemy's ``DBAPIError`` subclasses, as with ``execute``.

Only statements that need no Python-side column defaults and whose results need no type
processing belong here: plain INSERTs with every column given, UPDATEs by key (``rowcount``),
and ``RETURNING`` of an integer id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    compiled: SQLCompiler
    sql: str
    processors: dict[str, Callable[[Any], Any]]


class Prepared:
    """A Core statement compiled once per (dialect, bound columns) and run on the DBAPI cursor."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _compile(self, connection: Connection, keys: tuple[str, ...]) -> _Compiled:
        dialect = connection.dialect
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            assert isinstance(compiled, SQLCompiler)
            processors: dict[str, Callable[[Any], Any]] = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            found = _Compiled(compiled, compiled.string, processors)
            self._compiled[(dialect.name, keys)] = found
        return found

    @staticmethod
    def _bind(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = compiled.compiled.construct_params(params, _check=False)
        processors = compiled.processors
        for name, processor in processors.items():
            if name in values:
                values[name] = processor(values[name])
        if compiled.compiled.positional:
            return tuple(values[name] for name in compiled.compiled.positiontup or ())
        return values

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
        compiled = self._compile(connection, tuple(sorted(rows[0])))
        bound = [self._bind(compiled, row) for row in rows]
        self._call(connection, compiled.sql, bound, lambda cursor: cursor.executemany(compiled.sql, bound))

    def _run(self, connection: Connection, params: Mapping[str, Any], answer: Callable[[Any], Any]) -> Any:
        compiled = self._compile(connection, tuple(sorted(params)))
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
