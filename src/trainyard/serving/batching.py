"""Dynamic batching: small concurrent requests to one deployment run as one ONNX Runtime call.

Off by default; a deployment's ``batching`` setting (:class:`trainyard.core.serving.Batching`,
``max_rows`` and ``max_wait_us``) turns it on, and the host gives that deployment's target a
:class:`Batcher`. Everything here but the run itself happens on the event loop, so no lock is
needed:

- a request of at most ``Batching.request_rows`` rows is decoded and checked on its own first
  (a bad value gets its own 400 there and never reaches a batch), then joins the open batch
  (:meth:`Batcher.submit`) and awaits its outputs; a larger request runs alone, as without
  batching;
- the first request of a batch starts its timer: the batch runs ``max_wait_us`` after that
  request arrived, or as soon as it holds ``max_rows`` rows, whichever comes first; a request
  that would take it over ``max_rows`` sends it off and opens the next one;
- the run (:func:`run_batch`): on a replica's thread through
  :meth:`DeploymentRuntime.run_async`, within the deployment's ``timeout_ms``; the requests'
  feeds are concatenated along axis 0, run once, and every output (labels, probabilities,
  strings) is sliced back per request (views, no copy). Each request then encodes its slice in
  its own protocol, counts its own metrics, and is mirrored and logged on its own.
- failures: a timeout (504) or any other failure of the run fails every request of the batch
  with that error, except a refusal of the values by the model (``InvalidArgument``): then the
  requests of that batch run one by one on the same thread, so only the one at fault gets the
  400 and the others their answers. An answer never depends on what else was in its batch.

Event loops keep time in milliseconds: uvloop (what ``trainyard up`` and ``trainyard serve``
run) rounds ``max_wait_us`` to the nearest millisecond, so a wait of 500 us or less runs the batch
on the loop's next turn, after the requests it has already read; asyncio's own loop waits at
least 1 ms. ``trainyard_scoring_batch_rows`` (a histogram) counts the rows of every batched run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from trainyard.core.serving import Batching
from trainyard.errors import InvalidArgument, TrainyardError
from trainyard.serving.runtime import DeploymentRuntime, guarded, rows_of

Feeds = dict[str, np.ndarray]
Run = Callable[[Feeds], list[Any]]
Result = list[Any] | Exception
"""One request's outputs (every model output, in order, for its rows), or its error."""


class _Open:
    """A batch being filled: its requests' feeds, row counts and futures."""

    __slots__ = ("feeds", "futures", "loop", "rows", "sent", "sizes", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.feeds: list[Feeds] = []
        self.sizes: list[int] = []
        self.futures: list[asyncio.Future[list[Any]]] = []
        self.rows = 0
        self.sent = False
        self.timer: asyncio.TimerHandle | None = None


class Batcher:
    """One deployment's open batch and its runs (see the module docstring).

    A batcher serves one event loop at a time (one per process in ``trainyard up`` and in each
    ``trainyard serve`` worker); the requests it holds keep their own leases on the runtime, so
    a retired runtime stays open until its last batch has answered.

    Args:
        runtime: the deployment's loaded model and replica threads.
        batching: the deployment's setting.
        timeout_s: the longest run of one batch (the deployment's ``limits.timeout_ms``).
        observe: called with the row count of every batched run (the batch-size histogram).

    Example::

        outputs = await batcher.submit(batch.feeds, batch.rows)  # this request's rows only
    """

    def __init__(
        self,
        runtime: DeploymentRuntime,
        batching: Batching,
        timeout_s: float,
        observe: Callable[[int], None],
    ) -> None:
        self.runtime = runtime
        self.batching = batching
        self.timeout_s = timeout_s
        self.request_rows = batching.request_rows
        """Requests of more rows than this do not come here."""
        self._max_rows = batching.max_rows
        self._wait_s = batching.max_wait_us / 1e6
        self._observe = observe
        self._open: _Open | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, feeds: Feeds, rows: int) -> asyncio.Future[list[Any]]:
        """Add one request to the open batch; the future of its outputs.

        Call it on the event loop. The future fails with the batch's error (a
        :class:`TrainyardError`: ``DeadlineExceeded`` past ``timeout_ms``, ``InvalidArgument``
        for the request whose values the model refused).
        """
        loop = asyncio.get_running_loop()
        batch = self._open
        if batch is not None and (batch.loop is not loop or batch.rows + rows > self._max_rows):
            if batch.loop is loop:
                self._send(batch)  # this request would overfill it: it runs now
            batch = None  # (a batch of another loop is sent by its own timer)
        if batch is None:
            batch = self._open = _Open(loop)
            batch.timer = loop.call_later(self._wait_s, self._send, batch)
        future: asyncio.Future[list[Any]] = loop.create_future()
        batch.feeds.append(feeds)
        batch.sizes.append(rows)
        batch.futures.append(future)
        batch.rows += rows
        if batch.rows >= self._max_rows:
            self._send(batch)
        return future

    def _send(self, batch: _Open) -> None:
        """Start the run of a batch, once: when it is full or when its timer fires."""
        if self._open is batch:
            self._open = None
        if batch.sent:
            return
        batch.sent = True
        if batch.timer is not None:
            batch.timer.cancel()
        self._observe(batch.rows)
        task = batch.loop.create_task(self._run(batch))
        self._tasks.add(task)  # a running task must be referenced
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: _Open) -> None:
        feeds, sizes, futures = batch.feeds, batch.sizes, batch.futures
        try:
            results: list[Result] = await self.runtime.run_async(
                lambda run: run_batch(run, feeds, sizes), self.timeout_s
            )
        except asyncio.CancelledError:
            for f in futures:
                f.cancel()
            raise
        except Exception as exc:  # the whole batch failed: each of its requests fails with it
            for f in futures:
                if not f.done():
                    f.set_exception(exc)
            return
        for f, result in zip(futures, results, strict=True):
            if f.done():  # the request went away
                continue
            if isinstance(result, Exception):
                f.set_exception(result)
            else:
                f.set_result(result)


def run_batch(run: Run, feeds: list[Feeds], sizes: list[int]) -> list[Result]:
    """Score the requests of one batch with one run (on a replica's thread); each request's
    outputs or error, in order (see the module docstring for when they run one by one)."""
    if len(feeds) == 1:
        return [_alone(run, feeds[0])]
    try:
        joined = {name: np.concatenate([f[name] for f in feeds]) for name in feeds[0]}
        outputs = guarded(run, joined)
    except (InvalidArgument, ValueError):  # a value the model refuses: find whose it is
        return [_alone(run, f) for f in feeds]
    total = sum(sizes)
    if any(rows_of(o) != total for o in outputs):  # not one answer per row: cannot split
        return [_alone(run, f) for f in feeds]
    return list[Result](split(outputs, sizes))


def split(outputs: list[Any], sizes: list[int]) -> list[list[Any]]:
    """Each request's rows of every output: slices along the first axis (views of arrays,
    slices of lists such as a ZipMap's), ``sizes`` rows each, in order."""
    per: list[list[Any]] = []
    start = 0
    for n in sizes:
        end = start + n
        per.append([o[start:end] for o in outputs])
        start = end
    return per


def _alone(run: Run, feeds: Feeds) -> Result:
    try:
        return guarded(run, feeds)
    except TrainyardError as exc:
        return exc
