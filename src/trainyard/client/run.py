"""A run seen from the SDK: log metrics, params and tags, move files, end it.

Example::

    with exp.start_run(name="baseline") as run:
        run.log_params({"alpha": 0.1})
        for epoch in range(10):
            run.log("rmse", train_one_epoch())    # queued: costs about a microsecond
        run.upload_file("model.pkl", "out/model.pkl")
    # FINISHED here, or FAILED with the exception's message (which then propagates)
"""

from __future__ import annotations

import logging
import numbers
import operator
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from trainyard import schemas
from trainyard.client._files import (
    Progress,
    artifact_segments,
    file_chunks,
    progress_bar,
    walk_files,
    write_atomically,
)
from trainyard.client._registration import register_run_model
from trainyard.client._scope import Scope, body, iter_pages
from trainyard.client._transport import RetryPolicy
from trainyard.client.batcher import MetricBatcher
from trainyard.client.models import ModelVersion
from trainyard.core.entities import RunStatus
from trainyard.core.limits import MAX_METRICS_PER_BATCH, MAX_PARAMS_PER_BATCH, check_key
from trainyard.errors import InvalidArgument, TrainyardError

logger = logging.getLogger("trainyard")

StrPath = str | os.PathLike[str]


class Run:
    """One run. Made by ``Experiment.start_run``, ``Workspace.get_run`` or ``trainyard.get_run``.

    As a context manager, a normal exit completes the run (FINISHED) and an exception fails it
    (FAILED, with the message as ``status_message``) and propagates. A run attached from inside a
    job (``owns_status=False``) is only flushed on exit: the job owns its status.
    """

    def __init__(self, scope: Scope, info: schemas.Run, *, owns_status: bool = True) -> None:
        self._scope = scope
        self._info = info
        self._owns_status = owns_status
        self._steps: dict[str, int] = {}
        self._batcher: MetricBatcher | None = None

    @property
    def run_id(self) -> str:
        """The run's opaque id."""
        return self._info.run_id

    @property
    def info(self) -> schemas.Run:
        """The run as last read or changed by this object (see :meth:`get_details`)."""
        return self._info

    @property
    def inputs(self) -> schemas.RunInputs:
        """The data sets and logged models the run used, as last read (see :meth:`get_details`).

        Inputs are logged through MLflow (``mlflow.log_input``); a run found by a search or
        ``get_run`` carries them. Example::

            for d in ws.get_run(run_id).inputs.datasets:
                print(d.name, d.digest, d.context)   # iris 1a2b3c4d training
        """
        return self._info.inputs

    @property
    def status(self) -> RunStatus:
        """The status as last known to this object."""
        return self._info.status

    def __repr__(self) -> str:
        return f"Run(run_id={self.run_id!r}, name={self._info.name!r}, status={self.status})"

    # --- metrics, params, tags -----------------------------------------------------------

    def log(self, name: str, value: float, step: int | None = None) -> None:
        """Queue one metric value; the batcher sends it in the background.

        Args:
            name: the metric's key.
            value: a real number (NaN and infinities allowed; bools refused).
            step: the step; None continues the key's own counter (0, 1, 2, ...).

        Raises:
            InvalidArgument: a bad key, value or step.
            TrainyardError: an earlier batch failed for good (raised once, with the count).
        """
        if type(value) is not float:
            value = _as_float(name, value)
        steps = self._steps
        last = steps.get(name)
        if last is None:
            check_key("metric", name)
            last = -1
        if step is None:
            step = last + 1
        elif type(step) is not int:
            step = _as_step(name, step)
        steps[name] = step
        batcher = self._batcher or self._start_batcher()
        batcher.put((name, value, time.time_ns() // 1_000_000, step))

    def flush(self, timeout: float | None = None) -> None:
        """Block until every metric value logged so far is stored (see ``MetricBatcher.flush``)."""
        if self._batcher is not None:
            self._batcher.flush(timeout)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log params now (values go through ``str()``).

        Raises:
            trainyard.errors.Conflict: a param already has another value.
        """
        self._log_batch("params", {k: str(v) for k, v in params.items()})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags now (values go through ``str()``); a tag set again takes the new value."""
        self._log_batch("tags", {k: str(v) for k, v in tags.items()})

    def get_metrics(self) -> dict[str, float]:
        """The latest value of each metric, after flushing what was logged."""
        return {key: m.value for key, m in self.get_details().metrics.items()}

    def get_metric_history(self, name: str) -> list[schemas.Metric]:
        """Every value of one metric, in step then timestamp order (after a flush)."""
        self.flush()

        def page(token: str | None) -> tuple[list[schemas.Metric], str | None]:
            params: dict[str, Any] = {"key": name, "max_results": MAX_METRICS_PER_BATCH}
            if token:
                params["page_token"] = token
            data = self._request("GET", "metric-history", params=params)
            history = schemas.MetricHistory.model_validate(data)
            return history.metrics, history.next_page_token

        return list(iter_pages(page))

    def get_details(self) -> schemas.Run:
        """The run as stored now (after flushing what was logged)."""
        self.flush()
        self._info = schemas.Run.model_validate(self._request("GET"))
        return self._info

    # --- status --------------------------------------------------------------------------

    def complete(self) -> None:
        """Flush the metrics, then mark the run FINISHED.

        Raises:
            TrainyardError: metric values were not stored (the run is then left RUNNING).
        """
        if self._batcher is not None:
            self._batcher.close()
        self._set_status(RunStatus.FINISHED)

    def fail(self, message: str = "") -> None:
        """Flush the metrics, then mark the run FAILED with ``message`` as ``status_message``.

        Metric values that could not be stored are mentioned in the message and logged, not
        raised: this is already the failure path.
        """
        if self._batcher is not None:
            try:
                self._batcher.close()
            except TrainyardError as exc:
                logger.warning("trainyard: run %s: %s", self.run_id, exc)
                message = f"{message} (also: {exc.message})" if message else exc.message
        self._set_status(RunStatus.FAILED, message[:8000] or None)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._owns_status:  # attached to a job's run: the job owns the status
            if exc is None:
                self.flush()
            else:
                self._flush_quietly()
            return
        if exc is None:
            try:
                self.complete()
            except TrainyardError as err:
                self._fail_quietly(err.message)
                raise
            return
        self._fail_quietly(str(exc) or (exc_type.__name__ if exc_type else "failed"))

    # --- artifacts -----------------------------------------------------------------------

    def upload_file(
        self, name: str, path: StrPath, *, progress: bool = False
    ) -> schemas.ArtifactFile:
        """Upload one file as the artifact ``name``, streamed in chunks.

        Args:
            name: the relative artifact path, e.g. ``model/model.pkl``.
            path: the local file.
            progress: show a Rich progress bar.
        """
        src = Path(path)
        if not src.is_file():
            raise InvalidArgument(f"cannot upload {str(src)!r}: it is not a file")
        size = src.stat().st_size
        segments = artifact_segments(name)
        with progress_bar(name, size, progress) as bar:
            data = self._request(
                "PUT",
                "artifacts",
                *segments,
                content=lambda: file_chunks(src, bar),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            )
        return schemas.ArtifactFile.model_validate(data)

    def upload_folder(
        self, name: str, path: StrPath, *, progress: bool = False
    ) -> list[schemas.ArtifactFile]:
        """Upload every file under ``path`` as ``name/<relative path>``."""
        prefix = "/".join(artifact_segments(name))
        return [
            self.upload_file(f"{prefix}/{rel}", file, progress=progress)
            for rel, file in walk_files(Path(path))
        ]

    def get_file_names(self) -> list[str]:
        """The paths of every artifact file of the run (folders left out)."""
        data = self._request("GET", "artifacts", params={"recursive": "true"})
        listing = schemas.ArtifactList.model_validate(data)
        return [f.path for f in listing.files if not f.is_dir]

    def download_file(
        self, name: str, output_path: StrPath = ".", *, progress: bool = False
    ) -> Path:
        """Download the artifact ``name``, streamed to disk.

        Args:
            name: the artifact's path.
            output_path: a folder (the file keeps its base name there) or a file path.
            progress: show a Rich progress bar.

        Returns:
            The path written; it appears whole or not at all (temporary name, then rename).
        """
        segments = artifact_segments(name)
        dest = Path(output_path)
        if dest.is_dir():
            dest = dest / PurePosixPath(segments[-1]).name
        path = self._scope.path("runs", self.run_id, "artifacts", *segments)
        with self._scope.transport.stream("GET", path) as response:
            size = int(response.headers.get("Content-Length") or 0)
            with progress_bar(name, size, progress) as bar:
                write_atomically(dest, _counted(response.iter_bytes(), bar))
        return dest

    # --- models --------------------------------------------------------------------------

    def register_model(
        self,
        name: str,
        model: Any,
        sample: Any,
        *,
        force: bool = False,
        keep_native: bool = False,
        rtol: float | None = None,
        atol: float | None = None,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Convert ``model`` to ONNX, check parity on ``sample``, and register it from this run.

        Args:
            name: the registered model (created if missing).
            model: the fitted scikit-learn, LightGBM or XGBoost model.
            sample: rows of its input (a DataFrame or a 2-D array), e.g. ``X_train[:500]``.
            force: register even if the parity check fails (the version records it).
            keep_native: also keep the pickled native model beside the ONNX file.
            rtol: relative tolerance of the parity check (default 1e-4).
            atol: absolute tolerance of the parity check (default 1e-5).
            description: the version's description.
            tags: the version's tags.

        Returns:
            The new version, with ``.version`` and ``.model_id``.

        Raises:
            trainyard.errors.Conflict: the parity check failed and ``force`` is False (nothing
                is uploaded); ``details`` holds the numbers.
            trainyard.errors.InvalidArgument: the model cannot be converted.

        Example::

            v = run.register_model("churn", model=clf, sample=X_train[:500])
            print(v.version, v.model_id)
        """
        return register_run_model(
            self._scope,
            self,
            name,
            model,
            sample,
            force=force,
            keep_native=keep_native,
            rtol=rtol,
            atol=atol,
            description=description,
            tags=tags,
        )

    # --- internals -----------------------------------------------------------------------

    def _request(self, method: str, *segments: str, **kwargs: Any) -> Any:
        return self._scope.request(method, "runs", self.run_id, *segments, **kwargs)

    def _start_batcher(self) -> MetricBatcher:
        def send(metrics: list[dict[str, Any]], retry: RetryPolicy) -> None:
            self._request(
                "POST", "log-batch", json={"metrics": metrics}, retry=retry, idempotent=True
            )

        self._batcher = MetricBatcher(send, label=self.run_id, options=self._scope.batcher)
        self._scope.batchers.add(self._batcher)
        return self._batcher

    def _log_batch(self, field: str, values: dict[str, str]) -> None:
        items = list(values.items())
        for i in range(0, len(items), MAX_PARAMS_PER_BATCH):
            chunk = dict(items[i : i + MAX_PARAMS_PER_BATCH])
            payload = body(schemas.LogBatch, **{field: chunk})
            self._request("POST", "log-batch", json=payload, idempotent=True)

    def _set_status(self, status: RunStatus, message: str | None = None) -> None:
        payload = body(schemas.RunUpdate, status=status, status_message=message)
        self._info = schemas.Run.model_validate(self._request("PATCH", json=payload))

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except TrainyardError as exc:
            logger.warning("trainyard: run %s: %s", self.run_id, exc)

    def _fail_quietly(self, message: str) -> None:
        try:
            self.fail(message)
        except Exception as exc:  # the caller's own exception matters more
            logger.warning("trainyard: could not mark run %s FAILED: %s", self.run_id, exc)


def _as_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(
            f"metric {name!r} must be a real number, got {type(value).__name__} {value!r}"
        )
    try:
        return float(value)
    except OverflowError:
        raise InvalidArgument(f"metric {name!r}: {value!r} does not fit in a float") from None


def _as_step(name: str, step: object) -> int:
    if isinstance(step, bool):
        raise InvalidArgument(f"metric {name!r}: step must be an integer, got a bool")
    try:
        return operator.index(step)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgument(
            f"metric {name!r}: step must be an integer, got {type(step).__name__} {step!r}"
        ) from None


def _counted(chunks: Iterator[bytes], bar: Progress) -> Iterator[bytes]:
    for chunk in chunks:
        bar.advance(len(chunk))
        yield chunk
