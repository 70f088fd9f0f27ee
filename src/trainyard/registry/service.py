"""The registry service: models, versions and aliases on the registry store and artifact store.

:class:`RegistryService` is assembled from one mixin per job, sharing its stores:

- ``models.py``: registered models (create, list, update, rename, delete) and aliases;
- ``versions.py``: versions read, resolved from a reference, opened as files, updated, deleted;
- ``registration.py``: versions made from an upload, a run's logged file, or a file the server
  converted (every ONNX file checked on the server before anything is stored);
- ``deletion.py``: the delete guards other services register to refuse a deletion (serving
  refuses to delete a version a deployment serves);
- ``_inputs.py``: the checks of tags and descriptions, and the parity refusal.

Files live in the artifact store under ``models/<workspace>/<name>/<version>/`` (workspaces are
in the key because names are unique per workspace only), and are placed inside the transaction
that records the version, so a version is never visible without its file.
"""

from __future__ import annotations

import threading

from trainyard.registry._inputs import MAX_DESCRIPTION_LENGTH, parity_refusal
from trainyard.registry.deletion import DeleteGuard
from trainyard.registry.files import ModelFiles
from trainyard.registry.models import ModelsMixin
from trainyard.registry.registration import RegistrationMixin
from trainyard.registry.versions import VersionsMixin
from trainyard.store import ArtifactStore
from trainyard.store._registry_base import RegistryStore
from trainyard.tracking import TrackingService

__all__ = ["MAX_DESCRIPTION_LENGTH", "RegistryService", "parity_refusal"]


class RegistryService(ModelsMixin, VersionsMixin, RegistrationMixin):
    """Registered models, versions and aliases; uses tracking for a version's source run.

    Example::

        registry = RegistryService(SqlRegistryStore(db), tracking, artifacts)
        registry.create_model("default", "iris")
        version, created = registry.register_upload("default", "iris", Path("iris.onnx"))
        registry.set_alias("default", "iris", "champion", version.version)
    """

    def __init__(
        self, store: RegistryStore, tracking: TrackingService, artifacts: ArtifactStore
    ) -> None:
        self.store = store
        self.tracking = tracking
        self.files = ModelFiles(artifacts)
        self._delete_guards: list[DeleteGuard] = []
        self._deletion_lock = threading.RLock()
