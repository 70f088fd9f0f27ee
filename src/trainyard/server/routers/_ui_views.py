"""View models of the UI pages: the runs table's columns and links, diffs, file previews.

Pure functions over the tracking entities (no I/O except reading a file's first bytes through
the service), so the page routes in ``ui_pages.py`` stay a few lines each.
"""

from __future__ import annotations

import csv
import io
import mimetypes
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Literal

from trainyard.core.entities import Run
from trainyard.core.filters import parse_order_by
from trainyard.errors import InvalidArgument
from trainyard.server.routers._ui_common import with_query
from trainyard.tracking import TrackingService

PAGE_SIZES = (25, 50, 100, 250, 500)
DEFAULT_PAGE_SIZE = 50

LOG_CANDIDATES = ("logs/stdout.log", "logs/std_log.txt")
"""Where a run's log is looked for, in order (a job's executor will write the first)."""

TEXT_PREVIEW_BYTES = 512 * 1024
CSV_PREVIEW_BYTES = 2 * 1024 * 1024
CSV_PREVIEW_ROWS = 500
IMAGE_PREVIEW_BYTES = 20 * 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".ico"}

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$")
_ENTITY_PREFIX = {"attribute": "attributes", "param": "params", "metric": "metrics", "tag": "tags"}


# ------------------------------------------------------------------------------ runs table
@dataclass(frozen=True)
class Column:
    """A column of the runs table; ``id`` is its ``order_by`` name, e.g. ``metrics.rmse``."""

    entity: Literal["attribute", "param", "metric"]
    key: str
    label: str

    @property
    def id(self) -> str:
        """``<entity>s.<key>``, the name the filter grammar knows."""
        return f"{_ENTITY_PREFIX[self.entity]}.{self.key}"

    def order_clause(self, ascending: bool) -> str:
        """The ``order_by`` clause sorting by this column (odd keys backtick-quoted)."""
        key = self.key if _PLAIN_KEY.match(self.key) else f"`{self.key}`"
        return f"{_ENTITY_PREFIX[self.entity]}.{key} {'ASC' if ascending else 'DESC'}"


NAME_COLUMN = Column("attribute", "run_name", "Run")
FIXED_COLUMNS = (
    Column("attribute", "status", "Status"),
    Column("attribute", "start_time", "Started"),
    Column("attribute", "duration", "Duration"),
)


@dataclass(frozen=True)
class RunsQuery:
    """What the runs page was asked for; ``href`` keeps it in every link but what changes."""

    filter: str = ""
    order_by: str = ""
    max_results: int = DEFAULT_PAGE_SIZE
    columns: tuple[str, ...] | None = None  # None: every column
    page_token: str | None = None

    def href(self, path: str, **changes: Any) -> str:
        """``path`` with this query, ``changes`` applied (paging restarts unless given)."""
        changes.setdefault("page_token", None)
        q = replace(self, **changes)
        return with_query(
            path,
            filter=q.filter,
            order_by=q.order_by,
            max_results=None if q.max_results == DEFAULT_PAGE_SIZE else q.max_results,
            cols="1" if q.columns is not None else None,
            col=list(q.columns or ()),
            page_token=q.page_token,
        )


def current_sort(order_by: str) -> tuple[str, bool] | None:
    """``(column id, ascending)`` of an ``order_by`` clause; None if empty or unparsable."""
    if not order_by.strip():
        return None
    try:
        (o,) = parse_order_by([order_by])
    except (InvalidArgument, ValueError):
        return None
    return f"{_ENTITY_PREFIX[o.entity]}.{o.key}", o.ascending


@dataclass
class RunsTable:
    """The columns to show, the chooser's choices and the sort state of one page of runs."""

    runs: list[Run]
    query: RunsQuery
    all_columns: list[Column] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    sort: tuple[str, bool] | None = None

    @classmethod
    def build(cls, runs: list[Run], query: RunsQuery) -> RunsTable:
        """Columns from the keys the page's runs have (params, then metrics, by name)."""
        params = sorted({k for r in runs for k in r.params})
        metrics = sorted({k for r in runs for k in r.metrics})
        choosable = [
            *FIXED_COLUMNS,
            *(Column("param", k, k) for k in params),
            *(Column("metric", k, k) for k in metrics),
        ]
        known = {c.id for c in choosable}
        for cid in query.columns or ():  # chosen columns that this page lacks stay choosable
            entity, _, key = cid.partition(".")
            if cid not in known and entity in ("params", "metrics") and key:
                choosable.append(Column("param" if entity == "params" else "metric", key, key))
                known.add(cid)
        shown = set(query.columns) if query.columns is not None else known
        return cls(
            runs=runs,
            query=query,
            all_columns=choosable,
            columns=[NAME_COLUMN, *(c for c in choosable if c.id in shown)],
            sort=current_sort(query.order_by),
        )

    def group_spans(self) -> list[tuple[str, int]]:
        """The header's first row: ``(Run | Parameters | Metrics, colspan)``, in order."""
        spans: list[tuple[str, int]] = []
        names = {"attribute": "Run", "param": "Parameters", "metric": "Metrics"}
        for c in self.columns:
            label = names[c.entity]
            if spans and spans[-1][0] == label:
                spans[-1] = (label, spans[-1][1] + 1)
            else:
                spans.append((label, 1))
        return spans

    def aria_sort(self, column: Column) -> str | None:
        """``ascending``/``descending`` for the sorted column, else None."""
        if self.sort is None or self.sort[0] != column.id:
            return None
        return "ascending" if self.sort[1] else "descending"

    def next_order(self, column: Column) -> str:
        """The clause a click on the header asks for: ascending first, then it flips."""
        ascending = not (self.sort is not None and self.sort == (column.id, True))
        return column.order_clause(ascending)


def run_duration(run: Run, now: int) -> int | None:
    """End minus start; for a run still going, so far."""
    if run.end_time is not None:
        return max(0, run.end_time - run.start_time)
    if not run.status.is_terminal:
        return max(0, now - run.start_time)
    return None


def split_ids(values: Iterable[str]) -> list[str]:
    """Run ids from ``?runs=a,b&runs=c``: split on commas, blanks and repeats dropped."""
    seen: dict[str, None] = {}
    for v in values:
        for part in v.split(","):
            if part.strip():
                seen[part.strip()] = None
    return list(seen)


# ------------------------------------------------------------------------------ compare
def differing_params(runs: list[Run]) -> list[tuple[str, list[str | None]]]:
    """``(key, value per run)`` of every param whose values are not all the same."""
    keys = sorted({k for r in runs for k in r.params})
    out = []
    for k in keys:
        values = [r.params.get(k) for r in runs]
        if len(set(values)) > 1:
            out.append((k, values))
    return out


def compare_data(runs: list[Run]) -> dict[str, Any]:
    """The runs as the compare page's scripts read them (names, params, latest metrics)."""
    return {
        "runs": [
            {
                "run_id": r.run_id,
                "name": r.name,
                "params": r.params,
                "metrics": {
                    k: (m.value if m.value == m.value else None) for k, m in r.metrics.items()
                },
            }
            for r in runs
        ],
        "differing": [k for k, _ in differing_params(runs)],
    }


# ------------------------------------------------------------------------------ files
@dataclass
class Preview:
    """What the file page shows inline: one of text, csv, image or none (with why)."""

    kind: Literal["text", "csv", "image", "none"]
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    reason: str = ""


def find_log(tracking: TrackingService, workspace: str, run_id: str) -> str | None:
    """The path of the run's log file (the first of ``LOG_CANDIDATES`` present), or None."""
    for candidate in LOG_CANDIDATES:
        info = tracking.artifact_info(workspace, run_id, candidate)
        if info is not None and not info.is_dir:
            return candidate
    return None


def read_range(chunks: Iterator[bytes], start: int, limit: int) -> bytes:
    """At most ``limit`` bytes of a stream from byte ``start`` on."""
    buf = bytearray()
    pos = 0
    for chunk in chunks:
        end = pos + len(chunk)
        if end > start:
            buf += chunk[max(0, start - pos) :]
            if len(buf) >= limit:
                break
        pos = end
    return bytes(buf[:limit])


def read_head(chunks: Iterator[bytes], limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes from the start of a stream, and whether there was more."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            return bytes(buf[:limit]), True
    return bytes(buf), False


def complete_utf8(data: bytes) -> int:
    """The length of the longest prefix of ``data`` that does not cut a UTF-8 character."""
    end = len(data)
    for back in range(1, min(4, end) + 1):
        b = data[end - back]
        if b & 0b1100_0000 == 0b1000_0000:  # continuation byte: keep looking for the lead
            continue
        need = 1 if b < 0x80 else 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4
        return end if need <= back else end - back
    return end


def _looks_textual(head: bytes) -> bool:
    if b"\x00" in head[:8192]:
        return False
    sample = head[:8192]
    try:
        sample[: complete_utf8(sample)].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def preview_kind(path: str) -> str:
    """``image``, ``csv`` or ``sniff`` (decide from the first bytes), by the file's name."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in (".csv", ".tsv"):
        return "csv"
    return "sniff"


def build_preview(path: str, size: int | None, chunks: Iterator[bytes] | None) -> Preview:
    """The inline view of a file: images by link, CSV as a table, text as text (capped)."""
    kind = preview_kind(path)
    if kind == "image":
        if size is not None and size > IMAGE_PREVIEW_BYTES:
            return Preview("none", reason="this image is too large to show here")
        return Preview("image")
    if chunks is None:
        return Preview("none", reason="nothing to show")
    limit = CSV_PREVIEW_BYTES if kind == "csv" else TEXT_PREVIEW_BYTES
    head, truncated = read_head(chunks, limit)
    if not _looks_textual(head):
        guess = mimetypes.guess_type(path)[0] or "binary data"
        return Preview("none", reason=f"no preview for {guess}")
    text = head[: complete_utf8(head)].decode("utf-8", errors="replace")
    if kind == "csv":
        if truncated and "\n" in text:
            text = text[: text.rindex("\n")]
        delimiter = "\t" if path.lower().endswith(".tsv") else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        more = truncated or len(rows) > CSV_PREVIEW_ROWS + 1
        return Preview("csv", rows=rows[: CSV_PREVIEW_ROWS + 1], truncated=more)
    return Preview("text", text=text, truncated=truncated)


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """``(name, path so far)`` for each part of ``a/b/c``."""
    parts = [p for p in path.split("/") if p]
    return [(p, "/".join(parts[: i + 1])) for i, p in enumerate(parts)]
