"""The request path of scoring, framework-free: lease a deployment, read, decode, run, encode.

:meth:`Scoring.score` does, for one request:

1. route: the endpoint in the current routing table, its key check, the deployment (the
   ``X-Trainyard-Deployment`` header, else drawn by traffic), and a lease on its runtime (a
   retired runtime refuses the lease: the request then reads the new table);
2. the body, within the deployment's ``max_body_bytes`` (413 beyond), read by the server's
   ``read_body`` callable;
3. decode with the protocol (400s name the column), check ``max_rows`` (413);
4. run: with the deployment's batcher when it batches and the request is small enough (the
   request waits for its batch's run, see :mod:`trainyard.serving.batching`), else on the event
   loop when the model is cheap for that many rows (see :mod:`trainyard.serving.runtime`), else
   on a replica's thread within ``timeout_ms`` (504);
5. encode; queue the mirror copy and the request log line (neither waits); count the metrics;
   release the lease.

:meth:`Scoring.score_body` does the same for a body the server has already read, without an
await when the model runs inline (it returns a coroutine otherwise). Both share
:meth:`Scoring._scored` from the lease on; whoever finishes a request (``_scored`` itself, or
the ``_owned`` coroutine it hands back) releases the lease and counts it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from time import perf_counter
from typing import Any

from trainyard.errors import InvalidArgument, TrainyardError, Unavailable
from trainyard.serving.batching import Batcher
from trainyard.serving.host import ScoringHost
from trainyard.serving.mirror import MirrorJob
from trainyard.serving.protocols._base import Answer, Batch, ScoringProtocol
from trainyard.serving.request_log import now_ms
from trainyard.serving.routing import Route, Target
from trainyard.serving.runtime import guarded

INLINE_BODY_BYTES = 256 << 10
"""Bodies up to this size are decoded on the event loop; larger ones on a replica's thread."""

ReadBody = Callable[[int], Awaitable[bytes]]
"""Reads the body; may stop once it holds more than the limit it is given."""


class RequestTooLarge(InvalidArgument):
    """The body or the row count is over the deployment's limit (answered 413)."""

    http_status = 413


def too_large(what: str, size: int, limit: int, name: str) -> RequestTooLarge:
    """The error for a request over a limit (``what``: ``rows`` or ``bytes``) of deployment
    ``name``."""
    field = "max_rows" if what == "rows" else "max_body_bytes"
    amount = f"{size} rows" if what == "rows" else f"more than {limit} bytes"
    return RequestTooLarge(
        f"the request has {amount}; deployment {name!r} takes at most {limit} {what} "
        f"(limits.{field})",
        {"limit": limit, "field": field},
    )


class Scoring:
    """Scoring requests against a host's routing table (see the module docstring)."""

    def __init__(self, host: ScoringHost) -> None:
        self.host = host

    def lease(
        self,
        workspace: str,
        name: str,
        authorization: str | None,
        wanted: str | None,
        version: str | None = None,
    ) -> tuple[Route, Target]:
        """The route and a leased target (the caller releases ``target.runtime``), chosen by
        :meth:`Route.for_version` when a model ``version`` is asked for, else by
        :meth:`Route.choose`."""
        for _ in range(10):
            route = self.host.table.route(workspace, name)
            route.authorize(authorization)
            target = route.choose(wanted) if version is None else route.for_version(version, wanted)
            if target.runtime.acquire():
                return route, target
        raise Unavailable(f"endpoint {name!r} is being updated; retry")

    def score_body(
        self,
        protocol: ScoringProtocol,
        workspace: str,
        name: str,
        authorization: str | None,
        wanted: str | None,
        body: bytes,
        version: str | None = None,
        json_length: int | None = None,
    ) -> tuple[bytes, Target] | Coroutine[Any, Any, tuple[bytes, Target]]:
        """Score a body already read (at most ``INLINE_BODY_BYTES``): the answer and the target
        when the model is cheap for these rows (answered right here, without an await), else
        a coroutine that returns them once the rows ran (in their batch, when the deployment
        batches and the request is small enough; else on a replica's thread).

        ``json_length`` is the ``Inference-Header-Content-Length`` of an OIP request with binary
        tensors (see :meth:`ScoringProtocol.decode`).

        Raises:
            TrainyardError: as :meth:`score`.
        """
        start = perf_counter()
        try:
            route, target = self.lease(workspace, name, authorization, wanted, version)
        except TrainyardError as exc:
            self._failed(workspace, name, None, start, exc)
            raise
        return self._scored(protocol, route, target, body, json_length, start)

    async def score(
        self,
        protocol: ScoringProtocol,
        workspace: str,
        name: str,
        authorization: str | None,
        wanted: str | None,
        length: int | None,
        read_body: ReadBody,
        version: str | None = None,
        json_length: int | None = None,
    ) -> tuple[bytes, Target]:
        """Score one request whose body ``read_body`` reads (within the deployment's
        ``max_body_bytes``); the answer body and the target that answered.

        Raises:
            TrainyardError: the error to answer (its code gives the status; ``http_status``,
                when set, overrides it).
        """
        start = perf_counter()
        try:
            route, target = self.lease(workspace, name, authorization, wanted, version)
        except TrainyardError as exc:
            self._failed(workspace, name, None, start, exc)
            raise
        limit = target.limits.max_body_bytes
        try:
            if length is not None and length > limit:
                raise too_large("bytes", length, limit, target.name)
            body = await read_body(limit)
        except BaseException as exc:  # the client went away, or a refusal: give the lease back
            target.runtime.release()
            if isinstance(exc, TrainyardError):
                self._failed(workspace, name, target, start, exc)
            raise
        if len(body) > INLINE_BODY_BYTES and len(body) <= limit:  # decoded on a thread too
            return await self._owned(
                self._threaded_body(protocol, route, target, body, json_length),
                route,
                target,
                start,
            )
        result = self._scored(protocol, route, target, body, json_length, start)
        return result if isinstance(result, tuple) else await result

    # ------------------------------------------------------------------ one leased request
    def _scored(
        self,
        protocol: ScoringProtocol,
        route: Route,
        target: Target,
        body: bytes,
        json_length: int | None,
        start: float,
    ) -> tuple[bytes, Target] | Coroutine[Any, Any, tuple[bytes, Target]]:
        """Check, decode and run a leased request (it owns the lease from here): the answer
        now when the model runs inline, else a coroutine awaiting the batch or the thread."""
        later = False
        try:
            try:
                limit = target.limits.max_body_bytes
                if len(body) > limit:
                    raise too_large("bytes", len(body), limit, target.name)
                batch = self._decode(protocol, body, target, json_length)
                batcher = target.batcher
                if batcher is not None and batch.rows <= batcher.request_rows:
                    later = True
                    work = self._in_batch(protocol, route, target, batcher, batch)
                    return self._owned(work, route, target, start)
                if batch.rows > target.runtime.model.inline_rows:
                    later = True
                    return self._owned(
                        self._threaded(protocol, route, target, batch), route, target, start
                    )
                payload = self._inline(protocol, route, target, batch)
            finally:
                if not later:
                    target.runtime.release()
            target.series.done(perf_counter() - start, batch.rows)
            return payload, target
        except TrainyardError as exc:
            self._failed(route.workspace, route.name, target, start, exc)
            raise

    async def _owned(
        self,
        work: Coroutine[Any, Any, tuple[bytes, int]],
        route: Route,
        target: Target,
        start: float,
    ) -> tuple[bytes, Target]:
        """Await ``work`` (the answer and its row count), then give the lease back and count."""
        try:
            try:
                payload, rows = await work
            finally:
                target.runtime.release()
            target.series.done(perf_counter() - start, rows)
            return payload, target
        except TrainyardError as exc:
            self._failed(route.workspace, route.name, target, start, exc)
            raise

    def _failed(
        self, workspace: str, name: str, target: Target | None, start: float, exc: TrainyardError
    ) -> None:
        series = target.series if target is not None else None
        if series is None:
            series = self.host.metrics.series(workspace, name, "")
        series.failed(perf_counter() - start, exc.code)

    async def _in_batch(
        self, protocol: ScoringProtocol, route: Route, target: Target, batcher: Batcher, b: Batch
    ) -> tuple[bytes, int]:
        """Wait for this request's rows of its batch's run; its answer (mirror and log queued)."""
        outputs = await batcher.submit(b.feeds, b.rows)
        payload = protocol.encode(b, _answer(route, target, outputs))
        self._after(route, target, b, outputs)
        return payload, b.rows

    async def _threaded(
        self, protocol: ScoringProtocol, route: Route, target: Target, batch: Batch
    ) -> tuple[bytes, int]:
        """Run and encode on a replica's thread, within ``timeout_ms``."""
        outputs, payload = await target.runtime.run_async(
            lambda run: self._finish(protocol, route, target, batch, run),
            target.limits.timeout_ms / 1000,
        )
        self._after(route, target, batch, outputs)
        return payload, batch.rows

    async def _threaded_body(
        self,
        protocol: ScoringProtocol,
        route: Route,
        target: Target,
        body: bytes,
        json_length: int | None,
    ) -> tuple[bytes, int]:
        """A large body: decode it on the replica's thread too (the event loop stays free)."""

        def work(run: Callable[..., list[Any]]) -> tuple[Batch, list[Any], bytes]:
            b = self._decode(protocol, body, target, json_length)
            return (b, *self._finish(protocol, route, target, b, run))

        batch, outputs, payload = await target.runtime.run_async(
            work, target.limits.timeout_ms / 1000
        )
        self._after(route, target, batch, outputs)
        return payload, batch.rows

    def _inline(
        self, protocol: ScoringProtocol, route: Route, target: Target, batch: Batch
    ) -> bytes:
        """Run on this thread with the first session; the answer (mirror and log queued)."""
        outputs = guarded(target.runtime.run_inline, batch.feeds)
        payload = protocol.encode(batch, _answer(route, target, outputs))
        self._after(route, target, batch, outputs)
        return payload

    def _decode(
        self, protocol: ScoringProtocol, body: bytes, target: Target, json_length: int | None
    ) -> Batch:
        batch = protocol.decode(body, target.runtime.model.inputs, json_length)
        if batch.rows > target.limits.max_rows:
            raise too_large("rows", batch.rows, target.limits.max_rows, target.name)
        return batch

    def _finish(
        self,
        protocol: ScoringProtocol,
        route: Route,
        target: Target,
        batch: Batch,
        run: Callable[..., list[Any]],
    ) -> tuple[list[Any], bytes]:
        outputs = guarded(run, batch.feeds)
        return outputs, protocol.encode(batch, _answer(route, target, outputs))

    def _after(self, route: Route, target: Target, batch: Batch, outputs: list[Any]) -> None:
        mirror = route.mirrors() if route.mirror is not None else None
        if mirror is not None and mirror is not target and mirror.runtime.acquire():
            self.host.mirror.submit(MirrorJob(route, target, mirror, batch.feeds, outputs))
        if target.log_requests:
            runtime = target.runtime
            self.host.request_log.add(
                (
                    now_ms(),
                    route.workspace,
                    route.name,
                    target.name,
                    runtime.model_name,
                    runtime.model_version,
                    batch.rows,
                    batch.feeds,
                    runtime.model.outputs,
                    outputs,
                )
            )


def _answer(route: Route, target: Target, outputs: list[Any]) -> Answer:
    runtime = target.runtime
    return Answer(
        endpoint=route.name,
        deployment=target.name,
        model_name=runtime.model_name,
        model_version=runtime.model_version,
        output_names=runtime.model.outputs,
        outputs=outputs,
        proba_output=runtime.model.proba_output,
    )
