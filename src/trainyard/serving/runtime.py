"""Loaded deployments: ONNX Runtime sessions tuned for small tabular models, warmed, leased.

Session options (:func:`session_options`): one intra-op and one inter-op thread, sequential
execution, every graph optimisation. A tree ensemble or a linear model on one row runs in
microseconds; a thread pool per session would cost more in wake-ups than it saves, and
parallelism comes from replicas instead: a deployment with ``replicas=N`` has N sessions and N
worker threads (ONNX Runtime releases the GIL while it runs).

Where a request runs: when the model's measured cost for that many rows is under
``INLINE_BUDGET_S`` (:attr:`LoadedModel.inline_rows`), right on the event loop, which saves
the hop to a thread (tens of microseconds, more than the model itself for one row); otherwise
on a replica's thread, where ``timeout_ms`` applies (the run is then terminated through its
``RunOptions``).

Batching (a deployment's ``batching`` setting, :mod:`trainyard.serving.batching`) needs a model
whose inputs all take rows along a free first axis with every other axis fixed, and whose
outputs all answer one row per input row (:attr:`LoadedModel.batchable`, checked when it warms).

Draining: a :class:`DeploymentRuntime` counts the requests holding it (:meth:`acquire` /
:meth:`release`). Once :meth:`retire` d, it takes no new request, and it closes (sessions and
threads dropped, :attr:`drained` set) when the last one releases it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from trainyard.errors import InvalidArgument, TrainyardError
from trainyard.serving.inputs import ModelInputs, inputs_of

log = logging.getLogger("trainyard.serving")

INLINE_BUDGET_S = 0.0005
"""A run estimated to take less than this runs on the event loop, without a thread hop."""

WARM_RUNS = 20


class DeadlineExceeded(TrainyardError):
    """A scoring run took longer than the deployment's ``timeout_ms`` (answered 504)."""

    code = "UNAVAILABLE"
    http_status = 504


def session_options() -> Any:
    """SessionOptions for small tabular models (see the module docstring)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


def _dummy(model: ModelInputs, rows: int) -> dict[str, np.ndarray]:
    feeds: dict[str, np.ndarray] = {}
    for t in model.tensors:
        dims = [rows if i == 0 else (d if isinstance(d, int) else 1) for i, d in enumerate(t.shape)]
        shape = tuple(dims) or (rows,)
        if t.kind == "O":
            feeds[t.name] = np.full(shape, "", dtype=np.object_)
        else:
            feeds[t.name] = np.zeros(shape, dtype=t.dtype)
    return feeds


class LoadedModel:
    """The sessions of one model version (one per replica), its inputs and outputs.

    Args:
        content: the ONNX file's bytes.
        replicas: how many sessions to create.
        feature_names: the column names recorded in the version's signature.

    Raises:
        InvalidArgument: ONNX Runtime cannot load or run the model.
    """

    def __init__(self, content: bytes, replicas: int, feature_names: Sequence[str] | None):
        import onnxruntime as ort

        try:
            self.sessions = [
                ort.InferenceSession(content, session_options(), providers=["CPUExecutionProvider"])
                for _ in range(replicas)
            ]
        except Exception as exc:
            raise InvalidArgument(f"ONNX Runtime cannot load the model: {exc}") from None
        first = self.sessions[0]
        self.inputs = inputs_of(first.get_inputs(), feature_names)
        self.outputs = [o.name for o in first.get_outputs()]
        self.output_types = {o.name: o.type for o in first.get_outputs()}
        self.proba_output = next((n for n in self.outputs if "prob" in n.lower()), None)
        self.inline_rows = 0
        self.cost_s = (0.0, 0.0)
        self.batchable = all(
            len(t.shape) >= 1
            and t.shape[0] is None
            and all(isinstance(d, int) for d in t.shape[1:])
            for t in self.inputs.tensors
        )
        """Requests can be concatenated along axis 0 and the outputs split back (see the module
        docstring); the output side is checked by :meth:`warm`."""

    def warm(self, inline_budget_s: float = INLINE_BUDGET_S) -> None:
        """Run every session on dummy rows, then measure a run of 1 and 64 rows to set
        :attr:`inline_rows`: how many rows run within ``inline_budget_s``; a model whose
        outputs do not answer one row per input row is not :attr:`batchable`.

        Raises:
            InvalidArgument: a run fails (the model cannot score rows of its own signature).
        """
        one, many = _dummy(self.inputs, 1), _dummy(self.inputs, 64)
        try:
            for s in self.sessions:
                for _ in range(3):
                    s.run(None, one)
                outputs = s.run(None, many)
                self.batchable = self.batchable and all(rows_of(o) == 64 for o in outputs)
            t1 = _median_time(lambda: self.sessions[0].run(None, one))
            t64 = _median_time(lambda: self.sessions[0].run(None, many))
        except Exception as exc:
            raise InvalidArgument(f"the model fails on rows of its own signature: {exc}") from None
        per_row = max((t64 - t1) / 63, 1e-9)
        self.cost_s = (t1, per_row)
        budget = inline_budget_s
        self.inline_rows = 0 if t1 >= budget else int((budget - t1) / per_row)

    def run(self, feeds: dict[str, np.ndarray], session: int = 0, options: Any = None) -> list[Any]:
        """Every output for ``feeds``, in output order."""
        result: list[Any] = self.sessions[session].run(self.outputs, feeds, options)
        return result


def rows_of(output: Any) -> int:
    """How many rows an output holds (its first axis; -1 for a scalar)."""
    if isinstance(output, np.ndarray):
        return int(output.shape[0]) if output.ndim else -1
    return len(output) if isinstance(output, list) else -1


def guarded(run: Callable[..., list[Any]], feeds: Any) -> list[Any]:
    """Run; ONNX Runtime's refusal of the values (a shape it cannot take) is a 400.

    Raises:
        InvalidArgument: ONNX Runtime refused the feeds (its first line of explanation).
    """
    try:
        return run(feeds)
    except TrainyardError:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else type(exc).__name__
        raise InvalidArgument(f"the model could not score these rows: {text}") from None


def _median_time(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(WARM_RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


class DeploymentRuntime:
    """One deployment's loaded model, its replica threads and its lease count."""

    def __init__(
        self,
        key: tuple[str, str, str],
        model_id: str,
        model_name: str,
        model_version: int,
        model: LoadedModel,
    ) -> None:
        self.key = key
        self.model_id = model_id
        self.model_name = model_name
        self.model_version = model_version
        self.label = f"{model_name}:{model_version}"
        self.model = model
        self.replicas = len(model.sessions)
        self.drained = threading.Event()
        self._lock = threading.Lock()
        self._leases = 0
        self._retired = False
        self._closed = False
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._slots = itertools.count()

    def __repr__(self) -> str:
        return f"DeploymentRuntime({'/'.join(self.key)}, {self.label}, leases={self._leases})"

    # ------------------------------------------------------------------ leases
    def acquire(self) -> bool:
        """Take a lease; False once retired (the caller picks from the new routing table)."""
        with self._lock:
            if self._retired:
                return False
            self._leases += 1
            return True

    def release(self) -> None:
        """Give a lease back; the last one out of a retired runtime closes it."""
        with self._lock:
            self._leases -= 1
            close = self._retired and self._leases == 0
        if close:
            self._close()

    def retire(self) -> None:
        """Take no new lease; close when the requests in flight are done."""
        with self._lock:
            if self._retired:
                return
            self._retired = True
            close = self._leases == 0
        if close:
            self._close()

    @property
    def in_flight(self) -> int:
        """Requests holding a lease now."""
        return self._leases

    def _close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self.model.sessions = []
        self.drained.set()
        log.info("deployment %s (%s) drained and closed", "/".join(self.key), self.label)

    # ------------------------------------------------------------------ running
    def run_inline(self, feeds: dict[str, np.ndarray]) -> list[Any]:
        """Run on the caller's thread with the first session (cheap requests)."""
        return self.model.run(feeds)

    async def run_async(
        self, work: Callable[[Callable[..., list[Any]]], Any], timeout: float
    ) -> Any:
        """``work(run)`` on a replica thread, where ``run(feeds)`` uses that thread's session.

        Raises:
            DeadlineExceeded: it took longer than ``timeout`` seconds (the run is terminated).
        """
        import onnxruntime as ort

        options = ort.RunOptions()

        def job() -> Any:
            slot = getattr(self._local, "slot", None)
            if slot is None:
                slot = self._local.slot = next(self._slots) % self.replicas
            return work(lambda feeds: self.model.run(feeds, slot, options))

        future = self._executor().submit(job)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            options.terminate = True
            future.cancel()
            raise DeadlineExceeded(
                f"deployment {self.key[2]!r} did not answer within {timeout * 1000:.0f} ms "
                "(its timeout_ms); send fewer rows or raise the limit"
            ) from None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        self.replicas, thread_name_prefix=f"score-{self.key[1]}-{self.key[2]}"
                    )
        return self._pool
