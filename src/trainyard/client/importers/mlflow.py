"""Copy experiments, runs, metric histories and artifacts from a running MLflow server.

Example::

    import trainyard
    from trainyard.client.importers import import_mlflow

    with trainyard.connect() as ws:
        summary = import_mlflow(ws, "http://127.0.0.1:5000", experiments=["churn"])
    print(summary.runs, summary.metric_values, summary.files)

What is copied, per MLflow experiment (deleted ones only with ``include_deleted``): its name and
tags into the Trainyard experiment of the same name (created when missing, tagged with
``trainyard.import.source_experiment_id`` and ``trainyard.import.source_uri``); per run, its name,
status, start and end times, params, tags, every metric's full history (values, steps and
timestamps, NaN included), every artifact file (streamed from one server to the other, never held
in memory) and its place in a nesting of runs (``mlflow.parentRunId`` becomes the parent's new
id). Then the model registry (see :mod:`._mlflow_models`): registered models, their versions
converted to ONNX, and aliases. MLflow 3's logged models that no version refers to are not
copied, nor are datasets, traces and prompts.

Idempotent and resumable: a run is created carrying ``trainyard.import.source_run_id`` and
``trainyard.import.pending``; the pending tag is removed once everything else is stored. A
later import skips the runs whose copy is complete and completes the ones still pending (metric
points are deduplicated by the server, files already stored whole are not sent again).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainyard.client.importers._base import (
    PENDING_TAG,
    SOURCE_EXPERIMENT_TAG,
    SOURCE_RUN_TAG,
    SOURCE_URI_TAG,
    ImportProgress,
    ImportSummary,
)
from trainyard.client.importers._mlflow_api import MlflowSource
from trainyard.client.importers._mlflow_models import ModelCopier
from trainyard.client.importers._writer import DryRunWriter, TrainyardWriter
from trainyard.client.workspace import Workspace
from trainyard.core.entities import LifecycleStage, RunStatus
from trainyard.core.limits import MAX_EXPERIMENT_TAG_VALUE_LENGTH, MAX_NAME_LENGTH, check_name
from trainyard.errors import InvalidArgument

PARENT_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
DEFAULT_ID = "0"


def import_mlflow(
    ws: Workspace,
    source: str | MlflowSource,
    *,
    experiments: Sequence[str] = (),
    include_deleted: bool = False,
    dry_run: bool = False,
    models: bool = True,
    allow_pickle: bool = False,
    progress: ImportProgress | None = None,
) -> ImportSummary:
    """Copy an MLflow tracking server's experiments and runs into the workspace ``ws``.

    Args:
        ws: the Trainyard workspace to write to.
        source: the MLflow server's address, or a :class:`MlflowSource` (for its auth options).
        experiments: only these experiment names (default: every experiment).
        include_deleted: copy deleted experiments and runs too (they arrive deleted).
        dry_run: read both sides and count what would be copied, writing nothing.
        models: copy the model registry too (the versions whose runs are imported).
        allow_pickle: load pickled models to convert them (unpickling runs their code).
        progress: receives progress events (e.g. the CLI's Rich display).

    Returns:
        The counts of what was copied and skipped.

    Raises:
        trainyard.errors.Unavailable: either server cannot be reached.
        trainyard.errors.NotFound: a named experiment is not on the MLflow server.
    """
    src = source if isinstance(source, MlflowSource) else MlflowSource(source)
    try:
        sink = progress or ImportProgress()
        importer = _Importer(ws, src, include_deleted, dry_run, sink)
        summary = importer.run(experiments)
        if models:
            copier = ModelCopier(ws, src, summary, sink, importer.new_ids, dry_run, allow_pickle)
            copier.run()
        return summary
    finally:
        if src is not source:
            src.close()


@dataclass
class _Target:
    """One MLflow experiment and the Trainyard experiment it is copied into."""

    name: str
    runs: list[str]
    experiment_id: str = ""
    delete_after: bool = False


@dataclass
class _Planned:
    run: dict[str, Any]
    experiment_id: str
    resume: str | None = None  # the id of a pending copy to complete


@dataclass
class _Importer:
    ws: Workspace
    src: MlflowSource
    include_deleted: bool
    dry_run: bool
    progress: ImportProgress
    summary: ImportSummary = field(init=False)
    writer: TrainyardWriter = field(init=False)
    new_ids: dict[str, str] = field(default_factory=dict)  # source run id -> Trainyard run id
    plan: dict[str, _Planned] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.summary = ImportSummary(self.src.uri, self.ws.name, self.dry_run)
        self.writer = DryRunWriter(self.ws) if self.dry_run else TrainyardWriter(self.ws)

    def run(self, names: Sequence[str]) -> ImportSummary:
        self.src.check()
        listed = [
            (e, list(self.src.runs(e["experiment_id"], self.include_deleted)))
            for e in self._choose(names)
        ]
        # MLflow's built-in "Default" experiment, left empty, is not worth copying
        listed = [(e, r) for e, r in listed if r or names or e["experiment_id"] != DEFAULT_ID]
        self.progress.planned("experiments", len(listed))
        by_source = {
            e.tags[SOURCE_EXPERIMENT_TAG]: e
            for e in self.writer.experiments()
            if e.tags.get(SOURCE_URI_TAG) == self.src.uri and SOURCE_EXPERIMENT_TAG in e.tags
        }
        targets = [self._target(e, runs, by_source) for e, runs in listed]
        self.progress.planned("runs", len(self.plan))
        for target in targets:
            for source_run_id in target.runs:
                self._import(source_run_id)
            if target.delete_after:
                self.writer.set_experiment_stage(target.experiment_id, LifecycleStage.DELETED)
            self.progress.advanced("experiments", label=target.name)
        return self.summary

    def _choose(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """The MLflow experiments to copy; deleted ones (unless included) and those whose name
        Trainyard refuses (over 250 characters) are counted as skipped."""
        found = (
            [self.src.experiment_by_name(n) for n in dict.fromkeys(names)]
            if names
            else list(self.src.experiments())
        )
        chosen = []
        for e in found:
            if e.get("lifecycle_stage") == "deleted" and not self.include_deleted:
                self.summary.skipped_experiments += 1
                continue
            try:
                check_name("experiment", e["name"])
            except InvalidArgument as exc:
                self.summary.skipped_experiments += 1
                self.summary.warnings.append(f"experiment {e['name'][:80]!r} left out: {exc}")
                continue
            chosen.append(e)
        return chosen

    def _target(
        self, source: dict[str, Any], runs: list[dict[str, Any]], by_source: dict[str, Any]
    ) -> _Target:
        """Find or create the Trainyard experiment of ``source`` and plan its runs."""
        name = source["name"]
        target = _Target(name, [r["info"]["run_id"] for r in runs])
        tags = {
            t["key"]: t["value"][:MAX_EXPERIMENT_TAG_VALUE_LENGTH] for t in source.get("tags", [])
        }
        wanted = {
            **tags,
            SOURCE_EXPERIMENT_TAG: source["experiment_id"],
            SOURCE_URI_TAG: self.src.uri,
        }
        existing = by_source.get(source["experiment_id"]) or self.writer.experiment_named(name)
        deleted_source = source.get("lifecycle_stage") == "deleted"
        if existing is None:
            target.experiment_id = self.writer.create_experiment(name, wanted)
            target.delete_after = deleted_source
            self.summary.experiments_created += 1
        else:
            target.experiment_id = existing.experiment_id
            if SOURCE_EXPERIMENT_TAG in existing.tags:  # keep the first source it was copied from
                wanted = tags
            changed = {k: v for k, v in wanted.items() if existing.tags.get(k) != v}
            if changed:
                self.writer.set_experiment_tags(existing.experiment_id, changed)
        self.summary.experiments += 1
        copied = self.writer.imported_runs(target.experiment_id, SOURCE_RUN_TAG)
        pending = 0
        for r in runs:
            run_id = r["info"]["run_id"]
            previous = copied.get(run_id)
            if previous is not None and PENDING_TAG not in previous.tags:
                self.new_ids[run_id] = previous.run_id
                self.summary.skipped_runs += 1
                continue
            resume = previous.run_id if previous is not None else None
            self.plan[run_id] = _Planned(r, target.experiment_id, resume)
            pending += 1
        if pending and existing is not None and existing.lifecycle_stage == LifecycleStage.DELETED:
            self.writer.set_experiment_stage(existing.experiment_id, LifecycleStage.ACTIVE)
            target.delete_after = True  # runs cannot be added to a deleted experiment
        return target

    def _import(self, source_run_id: str) -> str | None:
        """Copy one run (its parent first); its Trainyard id, or None if it is not copied."""
        if source_run_id in self.new_ids:
            return self.new_ids[source_run_id]
        planned = self.plan.get(source_run_id)
        if planned is None or source_run_id in self.active:
            return None  # not selected, or a cycle of parents
        self.active.add(source_run_id)
        info, data = planned.run["info"], planned.run.get("data", {})
        tags = {t["key"]: t["value"] for t in data.get("tags", [])}
        name = (info.get("run_name") or tags.get(RUN_NAME_TAG) or "")[:MAX_NAME_LENGTH] or None
        tags.pop(RUN_NAME_TAG, None)  # it is the name; the MLflow routes give it back as a tag
        parent = self._import(tags.pop(PARENT_TAG)) if PARENT_TAG in tags else None
        if parent is not None:
            tags[PARENT_TAG] = parent
        w = self.writer
        run_id = planned.resume or w.create_run(
            planned.experiment_id,
            name,
            info.get("start_time"),
            parent,
            {SOURCE_RUN_TAG: source_run_id, PENDING_TAG: "true"},
        )
        params = {p["key"]: p["value"] for p in data.get("params", [])}
        w.log_params(run_id, params)
        w.set_tags(run_id, tags)
        self.summary.params += len(params)
        self.summary.tags += len(tags)
        keys = sorted({m["key"] for m in data.get("metrics", [])})
        self._copy_metrics(source_run_id, run_id, keys)
        self._copy_files(planned.run, run_id, resumed=planned.resume is not None)
        status = RunStatus(info.get("status", "RUNNING"))
        if status is not RunStatus.RUNNING:
            w.end_run(run_id, status, info.get("end_time"))
        if info.get("lifecycle_stage") == "deleted":
            w.delete_run(run_id)
        w.delete_tag(run_id, PENDING_TAG)  # last: from now on the copy counts as complete
        self.new_ids[source_run_id] = run_id
        self.summary.runs += 1
        if planned.resume is not None:
            self.summary.runs_resumed += 1
        self.progress.advanced("runs", label=str(name or source_run_id))
        return run_id

    def _copy_metrics(self, source_run_id: str, run_id: str, keys: list[str]) -> None:
        batch: list[dict[str, Any]] = []
        for key in keys:
            for m in self.src.metric_history(source_run_id, key):
                value, step = m.get("value", 0.0), m.get("step", 0)  # MLflow omits zeros
                batch.append(
                    {"key": key, "value": value, "timestamp": m.get("timestamp", 0), "step": step}
                )
                if len(batch) >= self.writer.metrics_per_batch:
                    self._send_metrics(run_id, batch)
                    batch = []
        if batch:
            self._send_metrics(run_id, batch)

    def _send_metrics(self, run_id: str, batch: list[dict[str, Any]]) -> None:
        self.writer.log_metrics(run_id, batch)
        self.summary.metric_values += len(batch)

    def _copy_files(self, run: dict[str, Any], run_id: str, resumed: bool) -> None:
        stored = self.writer.file_sizes(run_id) if resumed else {}
        for path, size in self.src.files(run["info"]["run_id"]):
            if size is not None and stored.get(path) == size:
                self.summary.skipped_files += 1
                continue

            def chunks(path: str = path) -> Iterator[bytes]:
                for chunk in self.src.download(run, path):
                    self.progress.advanced("bytes", len(chunk))
                    yield chunk

            sent = self.writer.upload(run_id, path, chunks, size)
            if self.dry_run:  # nothing streamed: count the announced size
                self.progress.advanced("bytes", sent)
            self.summary.bytes += sent
            self.summary.files += 1
            self.progress.advanced("files", label=path)
