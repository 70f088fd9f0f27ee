"""Delete guards of ``RegistryService`` on a real SQLite store and artifact folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.test_models import tiny_onnx
from trainyard.errors import Conflict, NotFound
from trainyard.registry import Deletion, RegistryService
from trainyard.store import open_artifacts
from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.tracking import TrackingService

WS = "default"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RegistryService]:
    """A registry with model ``m`` of three versions."""
    tracking = SqlTrackingStore(f"sqlite:///{tmp_path / 'trainyard.db'}")
    artifacts = open_artifacts(str(tmp_path / "artifacts"))
    reg = RegistryService(
        SqlRegistryStore(tracking.db), TrackingService(tracking, artifacts), artifacts
    )
    reg.create_model(WS, "m")
    for i in (1, 2, 3):
        path = tmp_path / f"v{i}.onnx"
        path.write_bytes(tiny_onnx(float(i)))
        reg.register_upload(WS, "m", path)
    yield reg
    tracking.close()


def test_guards_see_the_deletion_and_can_refuse_it(registry: RegistryService) -> None:
    seen: list[Deletion] = []

    def keep_version_2(d: Deletion) -> None:
        seen.append(d)
        if any(v.version == 2 for v in d.versions):
            raise Conflict(f"{d.model}:2 is pinned")

    registry.add_delete_guard(keep_version_2)
    registry.delete_version(WS, "m", 3)
    assert [(d.model, [v.version for v in d.versions], d.whole_model) for d in seen] == [
        ("m", [3], False)
    ]
    with pytest.raises(NotFound, match="3"):
        registry.get_version(WS, "m", 3)

    with pytest.raises(Conflict, match="m:2 is pinned"):
        registry.delete_version(WS, "m", 2)
    with pytest.raises(Conflict, match="m:2 is pinned"):
        registry.delete_model(WS, "m")
    assert seen[-1].whole_model and [v.version for v in seen[-1].versions] == [2, 1]
    assert registry.get_model(WS, "m").version_count == 2  # nothing was deleted
    assert registry.open_file(WS, "m:2")[0].version == 2  # nor its file

    count = len(seen)
    with pytest.raises(NotFound):
        registry.delete_version(WS, "m", 9)
    with pytest.raises(NotFound):
        registry.delete_model(WS, "nope")
    assert len(seen) == count  # a missing version or model is NotFound, before any guard

    registry.delete_version(WS, "m", 1)  # the guard lets others go
    assert registry.get_model(WS, "m").version_count == 1
