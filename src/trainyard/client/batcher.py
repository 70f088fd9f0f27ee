"""Background metric batching: ``run.log`` queues a tuple, one daemon thread sends batches.

Contract of :class:`MetricBatcher`:

- :meth:`~MetricBatcher.put` costs an append and a length check (well under a microsecond)
  while the queue is short; no lock is taken on that path.
- At most ``max_pending`` values wait in memory; when the queue is full, ``put`` blocks until
  the sender has taken a batch (back-pressure, never unbounded memory).
- The sender takes up to ``batch_size`` values per request, in the order they were queued, and
  sends whatever has gathered every ``interval`` seconds, or at once when a full batch is ready
  or a flush is asked for.
- A batch that fails is retried with backoff (connection errors, 5xx) for ``retry.total``
  seconds; the clock runs from the start of an outage, so later batches in the same outage get
  one attempt each. A batch that still fails is counted, and the error is raised (once, with the
  number of values not stored) by the next :meth:`put`, :meth:`flush` or :meth:`close`.
- :meth:`flush` returns when every value queued before the call is acknowledged or failed.
- Every live batcher is flushed at interpreter exit; failures there are logged.

Non-finite values travel as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, which
the server's float fields accept (JSON has no literal for them).
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from trainyard.client._transport import RetryPolicy
from trainyard.core.limits import MAX_METRICS_PER_BATCH
from trainyard.errors import InvalidArgument, TrainyardError, Unavailable

logger = logging.getLogger("trainyard")

Item = tuple[str, float, int, int]
"""One queued value: ``(key, value, timestamp_ms, step)``."""

SendFn = Callable[[list[dict[str, Any]], RetryPolicy], object]
"""Posts ``{"metrics": batch}`` with the given retry policy; raises when the batch is refused."""

BATCH_RETRY = RetryPolicy(
    attempts=None, total=60.0, base_delay=0.5, max_delay=5.0, statuses=frozenset(range(500, 600))
)


@dataclass(frozen=True, slots=True)
class BatcherOptions:
    """Tuning of the metric batcher.

    Attributes:
        max_pending: the most values waiting in memory before ``log`` blocks.
        batch_size: the most values per request (the server accepts 10,000).
        interval: seconds between sends when no full batch is waiting.
        retry: how a failed batch is retried (60 s in all by default).
    """

    max_pending: int = 100_000
    batch_size: int = MAX_METRICS_PER_BATCH
    interval: float = 0.2
    retry: RetryPolicy = BATCH_RETRY


_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def encode(batch: list[Item]) -> list[dict[str, Any]]:
    """The wire form of queued values, with non-finite values as strings."""
    isfinite = math.isfinite
    return [
        {
            "key": k,
            "value": v if isfinite(v) else _NON_FINITE.get(v, "NaN"),
            "timestamp": t,
            "step": s,
        }
        for k, v, t, s in batch
    ]


class MetricBatcher:
    """A bounded queue of metric values and the thread that sends them.

    Args:
        send: posts one encoded batch (see :data:`SendFn`).
        label: names the run in error messages and in the thread's name.
        options: queue bound, batch size, send interval and retry policy.
    """

    def __init__(
        self, send: SendFn, *, label: str = "", options: BatcherOptions | None = None
    ) -> None:
        opts = options or BatcherOptions()
        if not 1 <= opts.batch_size <= MAX_METRICS_PER_BATCH:
            raise InvalidArgument(f"batch_size must be between 1 and {MAX_METRICS_PER_BATCH}")
        if opts.max_pending < opts.batch_size:
            raise InvalidArgument("max_pending must be at least batch_size")
        self._send = send
        self._label = label
        self._opts = opts
        self._pending: deque[Item] = deque()
        self._threshold = opts.batch_size  # put() takes its slow path at this length
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._taken = 0  # values taken off the queue by the sender
        self._done = 0  # values acknowledged or failed
        self._acknowledged = 0
        self._dropped = 0
        self._failure: BaseException | None = None
        self._unreported = 0  # values failed since the failure was last raised
        self._outage_deadline: float | None = None
        self._ensure_thread()

    @property
    def acknowledged(self) -> int:
        """How many values the server has acknowledged."""
        return self._acknowledged

    @property
    def dropped(self) -> int:
        """How many values failed for good (each failure is also raised once)."""
        return self._dropped

    @property
    def pending(self) -> int:
        """How many values wait in the queue (not counting a batch being sent)."""
        return len(self._pending)

    def put(self, item: Item) -> None:
        """Queue one value; blocks while the queue is full.

        Raises:
            TrainyardError: a stored failure of an earlier batch (raised once). ``item`` itself
                is queued all the same: only the values counted in the message are lost.
        """
        if len(self._pending) >= self._threshold:
            self._busy()
        self._pending.append(item)
        if self._failure is not None:
            self._raise_failure()

    def flush(self, timeout: float | None = None) -> None:
        """Block until every value queued before this call is acknowledged or has failed.

        Args:
            timeout: the longest wait in seconds (None: bounded only by the retry policy).

        Raises:
            TrainyardError: a stored failure, with the number of values not stored.
            Unavailable: ``timeout`` passed with values still unsent.
        """
        with self._cond:
            target = self._taken + len(self._pending)
        if self._done < target:
            self._ensure_thread()
            self._wake.set()
            deadline = None if timeout is None else time.monotonic() + timeout
            with self._cond:
                while self._done < target:
                    wait = 0.5
                    if deadline is not None:
                        wait = min(wait, deadline - time.monotonic())
                        if wait <= 0:
                            raise Unavailable(
                                f"{target - self._done} metric value(s){self._of()} are still "
                                f"unsent after {timeout} s"
                            )
                    self._cond.wait(wait)
                    if self._done < target and not self._thread_alive():
                        self._ensure_thread()  # e.g. after a fork: threads do not survive it
        self._raise_failure()

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop the thread; values queued later restart it."""
        try:
            self.flush(timeout)
        finally:
            with self._start_lock:
                self._closing = True
                self._threshold = 0  # every later put() checks that the thread runs
                self._wake.set()
                thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5.0)
            if not self._pending:  # else a value raced with close(): the exit flush sends it
                _live.discard(self)

    # --- internals -----------------------------------------------------------------------

    def _of(self) -> str:
        return f" of run {self._label}" if self._label else ""

    def _thread_alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _ensure_thread(self) -> None:
        with self._start_lock:
            thread = self._thread
            if thread is not None and thread.is_alive():
                if not self._closing:
                    return
                thread.join()  # it is draining its last values; start afresh after it
            self._closing = False
            self._threshold = self._opts.batch_size
            self._thread = threading.Thread(
                target=self._loop, name=f"trainyard-metrics-{self._label}", daemon=True
            )
            self._thread.start()
            _live.add(self)

    def _busy(self) -> None:
        """The slow path of put(): wake the sender, wait for room, restart a stopped thread."""
        if self._closing or not self._thread_alive():
            self._ensure_thread()
        if not self._wake.is_set():
            self._wake.set()
        if len(self._pending) < self._opts.max_pending:
            return
        # Wait for room. The sender keeps draining even in an outage: once the retry budget is
        # spent, each batch gets a single attempt, so this wait is bounded by that budget.
        with self._cond:
            while len(self._pending) >= self._opts.max_pending:
                self._cond.wait(0.5)
                if not self._thread_alive():
                    break

    def _raise_failure(self) -> None:
        with self._cond:
            exc, count = self._failure, self._unreported
            self._failure, self._unreported = None, 0
        if exc is None:
            return
        cls = type(exc) if isinstance(exc, TrainyardError) else TrainyardError
        reason = exc.message if isinstance(exc, TrainyardError) else repr(exc)
        details = exc.details if isinstance(exc, TrainyardError) else None
        raise cls(
            f"{count} metric value(s){self._of()} were not stored: {reason}", details
        ) from exc

    def _loop(self) -> None:
        pending, cond, wake = self._pending, self._cond, self._wake
        while True:
            wake.wait(self._opts.interval)
            wake.clear()
            while pending:
                with cond:
                    n = min(len(pending), self._opts.batch_size)
                    batch = [pending.popleft() for _ in range(n)]
                    self._taken += n
                    cond.notify_all()  # room for blocked producers
                self._deliver(batch)
            if self._closing:
                return

    def _deliver(self, batch: list[Item]) -> None:
        policy = self._opts.retry
        if self._outage_deadline is not None:
            policy = replace(policy, total=max(0.0, self._outage_deadline - time.monotonic()))
        started = time.monotonic()
        n = len(batch)
        try:
            self._send(encode(batch), policy)
        except Exception as exc:
            logger.warning("trainyard: %d metric value(s)%s not stored: %s", n, self._of(), exc)
            with self._cond:
                if self._outage_deadline is None:
                    self._outage_deadline = started + self._opts.retry.total
                self._failure = exc
                self._unreported += n
                self._dropped += n
                self._done += n
                self._cond.notify_all()
        else:
            with self._cond:
                self._outage_deadline = None
                self._acknowledged += n
                self._done += n
                self._cond.notify_all()


_live: weakref.WeakSet[MetricBatcher] = weakref.WeakSet()


def flush_all() -> None:
    """Flush and stop every live batcher (run at interpreter exit); failures are logged."""
    for batcher in list(_live):
        try:
            batcher.close()
        except Exception as exc:
            logger.error("trainyard: at exit, %s", exc)


atexit.register(flush_all)
