"""What every importer shares: the summary it returns and the progress events it reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SOURCE_RUN_TAG = "trainyard.import.source_run_id"
"""On every imported run: the run's id on the source server (what a re-run skips by)."""
PENDING_TAG = "trainyard.import.pending"
"""On a run while it is being copied; removed last, so a run still carrying it is resumed."""
SOURCE_EXPERIMENT_TAG = "trainyard.import.source_experiment_id"
"""On every imported experiment: its id on the source server."""
SOURCE_URI_TAG = "trainyard.import.source_uri"
"""On every imported experiment: the source server's address."""

Counter = Literal["experiments", "runs", "files", "bytes", "models"]


class ImportProgress:
    """Receives an importer's progress; this base class ignores it (the CLI draws Rich bars).

    ``planned`` announces a total (experiments first, then runs once they are listed, then
    model versions); ``advanced`` counts work done, with a label naming the thing copied.
    """

    def planned(self, counter: Counter, total: int) -> None:
        """``total`` experiments, runs or model versions are to be copied."""

    def advanced(self, counter: Counter, n: int = 1, label: str = "") -> None:
        """``n`` more experiments, runs, files, bytes or model versions were copied."""


@dataclass
class ImportSummary:
    """What an import copied (or, with ``dry_run``, would copy).

    Attributes:
        source: the source server's address.
        workspace: the Trainyard workspace written to.
        dry_run: nothing was written.
        experiments: experiments imported into (created or found from an earlier import).
        experiments_created: of those, the ones created now.
        runs: runs copied (including ``runs_resumed``).
        runs_resumed: runs whose earlier, interrupted copy was completed.
        metric_values: metric history points sent.
        params: params sent.
        tags: run tags sent (MLflow's own ``mlflow.*`` tags included).
        files: artifact files copied.
        bytes: their total size.
        skipped_runs: runs found already imported, left alone.
        skipped_experiments: deleted experiments left out (no ``include_deleted``).
        skipped_files: files of resumed runs found already copied whole.
        models: registered models imported into (created or found).
        models_created: of those, the ones created now.
        model_versions: model versions converted to ONNX and registered.
        model_versions_failed: versions recorded as FAILED, with the reason (see ``warnings``).
        skipped_model_versions: versions copied before, or whose run was not imported.
        skipped_models: registered models whose name Trainyard does not accept.
        warnings: what could not be copied, and why.
    """

    source: str
    workspace: str
    dry_run: bool = False
    experiments: int = 0
    experiments_created: int = 0
    runs: int = 0
    runs_resumed: int = 0
    metric_values: int = 0
    params: int = 0
    tags: int = 0
    files: int = 0
    bytes: int = 0
    skipped_runs: int = 0
    skipped_experiments: int = 0
    skipped_files: int = 0
    models: int = 0
    models_created: int = 0
    model_versions: int = 0
    model_versions_failed: int = 0
    skipped_model_versions: int = 0
    skipped_models: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data, the skipped counts grouped under ``skipped``."""
        data = asdict(self)
        data["skipped"] = {
            "runs": data.pop("skipped_runs"),
            "experiments": data.pop("skipped_experiments"),
            "files": data.pop("skipped_files"),
            "models": data.pop("skipped_models"),
            "model_versions": data.pop("skipped_model_versions"),
        }
        return data
