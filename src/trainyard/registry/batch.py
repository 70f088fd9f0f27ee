"""Batch scoring: a CSV or Parquet file through a model version into a Parquet file, in chunks.

Reading overlaps scoring: a thread decodes the next chunks (pyarrow releases the GIL) while ONNX
Runtime scores the current one, so the file costs little beside the model itself
(``bench/registry.py`` measures the ratio to ONNX Runtime alone). Only the columns the model
needs (and ``keep_columns``) are read. A model whose feature names are unknown (converted from an
array) takes every column of the file but the ``keep_columns``, in file order.

The output has the ``keep_columns`` first, then ``prediction`` (the model's first output) and,
for classifiers, ``probability_0 .. probability_{k-1}``. It is written under a temporary name
and renamed when complete, so a failed run leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainyard.errors import InvalidArgument
from trainyard.registry.runtime import OnnxModel

Predict = Callable[[Any], dict[str, np.ndarray]]
"""Turns one chunk (a ``pyarrow.RecordBatch``) into output columns."""

_DONE = object()


@dataclass(frozen=True)
class BatchReport:
    """What a batch scoring run did."""

    rows: int
    chunks: int
    seconds: float
    output: Path

    @property
    def rows_per_second(self) -> float:
        """Throughput over the whole run, reading and writing included."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def model_columns(model: OnnxModel) -> list[str] | None:
    """The columns the model reads from a table (None: all of them)."""
    if len(model.inputs) > 1:
        return [name for name, _, _ in model.inputs]
    return list(model.feature_names) if model.feature_names else None


def _read_chunks(src: Path, chunk_size: int, columns: list[str] | None) -> Iterator[Any]:
    suffixes = [s.lower() for s in src.suffixes]
    if not src.is_file():
        raise InvalidArgument(f"cannot score {str(src)!r}: no such file")
    if suffixes[-1:] in ([".parquet"], [".pq"]):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(src)
        # one decoding thread (this reader's): pyarrow's pool would compete with ONNX Runtime's
        yield from pf.iter_batches(batch_size=chunk_size, columns=columns, use_threads=False)
        return
    if ".csv" in suffixes:
        import pyarrow.csv as pacsv

        with src.open("rb") as f:
            head = f.read(1 << 16)
        row_bytes = max(1, len(head) // max(1, head.count(b"\n")))
        reader = pacsv.open_csv(
            src,
            read_options=pacsv.ReadOptions(block_size=max(1 << 16, row_bytes * chunk_size)),
            convert_options=pacsv.ConvertOptions(include_columns=columns),
        )
        for block in reader:  # blocks are sized in bytes: cut them to chunk_size rows
            for offset in range(0, block.num_rows, chunk_size):
                yield block.slice(offset, chunk_size)
        return
    raise InvalidArgument(f"cannot score {str(src)!r}: use a .csv or .parquet file")


def _prefetch(chunks: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Read ahead in a thread, ``depth`` chunks at most; errors surface in the caller."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                q.put(chunk)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        q.put(_DONE)

    thread = threading.Thread(target=work, name="trainyard-batch-reader", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                q.get_nowait()


def default_predict(model: OnnxModel) -> Predict:
    """The model's first output as ``prediction``, and its probabilities, per chunk."""
    proba = model.proba_output
    wanted = [model.outputs[0]] + ([proba] if proba and proba != model.outputs[0] else [])

    def predict(chunk: Any) -> dict[str, np.ndarray]:
        outs = model.session.run(wanted, model.feeds(chunk))
        first = np.asarray(outs[0])
        cols = {"prediction": first.ravel() if first.ndim == 2 and first.shape[1] == 1 else first}
        if len(outs) > 1:
            p = np.asarray(outs[1])
            if p.ndim == 2:
                for j in range(p.shape[1]):
                    cols[f"probability_{j}"] = p[:, j]
        return cols

    return predict


def score_file(
    model: OnnxModel,
    src: Path,
    dst: Path,
    *,
    chunk_size: int = 100_000,
    keep_columns: list[str] | None = None,
    progress: bool = False,
    predict: Predict | None = None,
) -> BatchReport:
    """Score ``src`` (CSV or Parquet) with ``model`` into the Parquet file ``dst``.

    Args:
        model: the loaded model.
        src: the input file.
        dst: the output file (written whole or not at all).
        chunk_size: rows per chunk (memory stays proportional to it).
        keep_columns: input columns copied to the output (an id, say).
        progress: show a Rich progress bar.
        predict: replaces the model's outputs by your own function of a chunk (recipes use it);
            every column is then read, else only those the model needs (all when unknown).

    Example::

        report = score_file(model, Path("customers.parquet"), Path("scores.parquet"))
        print(f"{report.rows_per_second:,.0f} rows/s")
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if chunk_size < 1:
        raise InvalidArgument(f"chunk_size must be at least 1, got {chunk_size}")
    keep = list(keep_columns or [])
    needed = None if predict is not None else model_columns(model)
    read = None if needed is None else list(dict.fromkeys([*keep, *needed]))
    run = predict or default_predict(model)
    total = _row_count(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    start = time.perf_counter()
    rows = chunks = 0
    writer: Any = None
    try:
        with _progress(progress, total, src.name) as advance:
            for batch in _prefetch(_read_chunks(src, chunk_size, read)):
                out = {c: batch.column(c) for c in keep}
                features = batch
                if needed is None and keep and predict is None:
                    features = batch.select([c for c in batch.schema.names if c not in keep])
                out.update(run(features))
                table = pa.table(out)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                rows += batch.num_rows
                chunks += 1
                advance(batch.num_rows)
        if writer is None:  # an empty input still gives a file with the columns
            writer = pq.ParquetWriter(tmp, pa.schema([("prediction", pa.float32())]))
        writer.close()
        writer = None
        os.replace(tmp, dst)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return BatchReport(rows, chunks, time.perf_counter() - start, dst)


def _row_count(src: Path) -> int | None:
    if src.suffix.lower() in (".parquet", ".pq") and src.is_file():
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(src).metadata.num_rows)
    return None


@contextlib.contextmanager
def _progress(enabled: bool, total: int | None, label: str) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress("scoring {task.description}", *columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
