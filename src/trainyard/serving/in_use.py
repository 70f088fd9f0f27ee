"""The registry's delete guard: a model version a deployment serves cannot be deleted.

A deployment records the id of the version its model reference resolved to; deleting that
version would leave the endpoint serving a model the registry no longer has (and unable to load
it again on the next start). The registry cannot ask serving (serving depends on it), so the
server registers :class:`ServedVersionsGuard` with ``RegistryService.add_delete_guard``
(``server/serving.py``). Deleting a served version, or a model one of whose versions is served,
is then a ``Conflict`` (HTTP 409) that names every deployment using it, and nothing is deleted::

    iris:3 is served by deployment 'blue' of endpoint 'flowers' (workspace default): update or
    delete that deployment first

``details`` lists them: ``{"deployments": [{"endpoint", "deployment", "model", "version",
"model_id"}, ...]}``. Versions are matched by id, so a renamed model is still recognised.

The guard runs under the registry's deletion lock, which ``ServingService`` also holds while it
checks that a deployment's version still exists and records it: in one server process, a
deletion and a new deployment of the same version cannot both succeed. (Two API processes on one
database do not share that lock.)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from trainyard.core.serving import Deployment
from trainyard.errors import Conflict
from trainyard.registry import Deletion
from trainyard.store._serving_base import ServingStore

_PAGE = 200  # endpoints read per query while looking for deployments
_NAMED = 5  # deployments named in the message (details list them all)


def deployments_serving(
    store: ServingStore, workspace: str, model_ids: Collection[str]
) -> list[Deployment]:
    """The deployments of ``workspace`` that serve one of ``model_ids``, by endpoint and name."""
    wanted = set(model_ids)
    found: list[Deployment] = []
    offset = 0
    while wanted:
        endpoints, more = store.list_endpoints(workspace, _PAGE, offset)
        for e in endpoints:
            found += [d for _, d in sorted(e.deployments.items()) if d.model_id in wanted]
        if not more or not endpoints:
            return found
        offset += len(endpoints)
    return found


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _served(model: str, version: int, deployments: list[Deployment]) -> str:
    names = [f"deployment {d.name!r} of endpoint {d.endpoint!r}" for d in deployments]
    return f"{model}:{version} is served by {_and(names)}"


def in_use_error(deletion: Deletion, deployments: list[Deployment]) -> Conflict:
    """The refusal of ``deletion``, naming the ``deployments`` that serve its versions.

    At most five deployments are named in the message; ``details`` lists every one.
    """
    number = {v.model_id: v.version for v in deletion.versions}
    by_version: dict[int, list[Deployment]] = {}
    for d in deployments[:_NAMED]:
        by_version.setdefault(number[d.model_id], []).append(d)
    clauses = [_served(deletion.model, n, ds) for n, ds in sorted(by_version.items())]
    where = f"workspace {deletion.workspace}"
    if len(deployments) > _NAMED:
        what = "its versions" if deletion.whole_model else "it"
        clauses.append(f"{len(deployments) - _NAMED} more deployments serve {what}")
        where += f"; details lists all {len(deployments)}"
    them = "that deployment" if len(deployments) == 1 else "those deployments"
    message = "; ".join(clauses) + f" ({where}): update or delete {them} first"
    if deletion.whole_model:
        message = f"model {deletion.model!r} cannot be deleted: {message}"
    details: dict[str, Any] = {
        "deployments": [
            {
                "endpoint": d.endpoint,
                "deployment": d.name,
                "model": deletion.model,
                "version": number[d.model_id],
                "model_id": d.model_id,
            }
            for d in deployments
        ]
    }
    return Conflict(message, details)


class ServedVersionsGuard:
    """A delete guard (``RegistryService.add_delete_guard``) refusing to delete served versions.

    Example::

        registry.add_delete_guard(ServedVersionsGuard(serving_store))
        registry.delete_version("default", "iris", 3)  # Conflict while 'flowers/blue' serves it
    """

    def __init__(self, store: ServingStore) -> None:
        self.store = store

    def __call__(self, deletion: Deletion) -> None:
        """Raise ``Conflict`` if a deployment serves one of the versions being deleted."""
        ids = [v.model_id for v in deletion.versions]
        if not ids:
            return
        served = deployments_serving(self.store, deletion.workspace, ids)
        if served:
            raise in_use_error(deletion, served)
