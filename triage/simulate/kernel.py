"""A minimal discrete-event kernel: generator processes that sleep or wait on signals.

A process is a generator that yields either an `int` (sleep that many microseconds) or a `Signal`
(resume when it fires, receiving its value). Ties at the same instant run in scheduling order, so a
run is a pure function of its inputs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any

Process = Generator[Any, Any, Any]


class Signal:
    """A one-shot event processes can wait on."""

    __slots__ = ("fired", "value", "waiters")

    def __init__(self) -> None:
        self.fired = False
        self.value: Any = None
        self.waiters: list[Process] = []


class Sim:
    """The event loop: a heap of (time, sequence, callback, argument)."""

    def __init__(self, start_us: int) -> None:
        self.now = start_us
        self._heap: list[tuple[int, int, Callable[[Any], None], Any]] = []
        self._seq = 0
        self._stopped = False

    def stop(self) -> None:
        """End the run after the current callback (background loops such as tickers never end)."""
        self._stopped = True

    def call_at(self, t_us: int, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run `fn(arg)` at time `t_us` (never earlier than now).

        Args:
            t_us: When to run, in microseconds since the epoch.
            fn: The callback.
            arg: Its single argument.
        """
        self._seq += 1
        heapq.heappush(self._heap, (max(t_us, self.now), self._seq, fn, arg))

    def spawn(self, process: Process, delay_us: int = 0) -> None:
        """Start a generator process after `delay_us`.

        Args:
            process: The generator.
            delay_us: Delay before its first step.
        """
        self.call_at(self.now + delay_us, self._resume, (process, None))

    def fire(self, signal: Signal, value: Any = None) -> None:
        """Fire a signal, waking every process waiting on it.

        Args:
            signal: The signal.
            value: The value each waiter receives.
        """
        if signal.fired:
            return
        signal.fired, signal.value = True, value
        waiters, signal.waiters = signal.waiters, []
        for process in waiters:
            self.call_at(self.now, self._resume, (process, value))

    def run(self, until_us: int | None = None) -> None:
        """Process events in time order until none remain (or until `until_us`).

        Args:
            until_us: Optional stop time.
        """
        heap = self._heap
        while heap and not self._stopped:
            if until_us is not None and heap[0][0] > until_us:
                self.now = until_us
                return
            t_us, _, fn, arg = heapq.heappop(heap)
            self.now = t_us
            fn(arg)

    def _resume(self, item: tuple[Process, Any]) -> None:
        process, value = item
        try:
            yielded = process.send(value)
        except StopIteration:
            return
        if isinstance(yielded, Signal):
            if yielded.fired:
                self.call_at(self.now, self._resume, (process, yielded.value))
            else:
                yielded.waiters.append(process)
        else:
            self.call_at(self.now + int(yielded), self._resume, (process, None))
