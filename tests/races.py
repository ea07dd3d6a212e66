"""Racing calls for concurrency tests: threads released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from bot.domain.errors import SignoffError

T = TypeVar("T")


def at_once(calls: list[Callable[[], T]]) -> list[T | SignoffError]:
    """Run ``calls`` in threads released together by a barrier; each one's result or error, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | SignoffError | None] = [None] * len(calls)
    done = [False] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = call()
        except SignoffError as error:
            results[index] = error
        done[index] = True

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(done), "a racing call did not finish"
    return results  # type: ignore[return-value]  # every slot is filled once all are done
