"""Request logs as data assets: the scored requests of an endpoint become the data asset
``<endpoint>-requests`` (version ``1``, a ``uri_folder`` on its log folder), ready to be a job's
input or a dataset for drift checks.

The serving host's :class:`~trainyard.serving.request_log.RequestLog` calls the hook the first
time a process writes an endpoint's log; registering is idempotent, so every server and replica
may do it. A data asset of that name and version the user made elsewhere is left alone (with a
warning in the log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from trainyard.errors import AlreadyExists, Conflict, NotFound
from trainyard.jobs.assets import STORE_PREFIX, AssetService
from trainyard.schemas.assets import DataAssetCreate

log = logging.getLogger("trainyard.server")

VERSION = "1"


def requests_asset_name(endpoint: str) -> str:
    """The data asset holding an endpoint's request logs."""
    return f"{endpoint}-requests"


def request_log_asset_hook(assets: AssetService) -> Callable[[str, str, str], None]:
    """The ``on_folder`` hook registering an endpoint's request-log folder as a data asset."""

    def register(workspace: str, endpoint: str, folder: str) -> None:
        name = requests_asset_name(endpoint)
        try:
            existing = assets.get_data(workspace, name, VERSION)
        except NotFound:
            existing = None
        if existing is not None:
            if existing.path != STORE_PREFIX + folder:
                log.warning(
                    "data asset %s:%s exists and is not endpoint %s's request logs; they are at %s",
                    name,
                    VERSION,
                    endpoint,
                    folder,
                )
            return
        body = DataAssetCreate(
            type="uri_folder",
            description=f"Scored requests of endpoint {endpoint!r} (log_requests): one JSON "
            "line per request, a folder per day.",
        )
        try:
            assets.put_data_at(workspace, name, VERSION, folder, body)
        except (AlreadyExists, Conflict):
            return  # another process registered it first
        log.info(
            "request logs of %s/%s registered as data %s:%s", workspace, endpoint, name, VERSION
        )

    return register
