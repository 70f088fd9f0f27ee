"""Environments, data and code assets, datastores and computes: what a job refers to by name.

:class:`AssetService` is assembled in ``service.py`` from one mixin per job, sharing its stores:

- ``_base.py``: the shared stores, uploads of a version's files and the versioned get and put;
- ``data.py``: data assets, their files and where they are (``store:<key>`` or a URL);
- ``snapshots.py``: environments (a Python version and requirements) and code snapshots;
- ``places.py``: computes (where a job runs) and datastores (where data lives);
- ``convert.py``: the wire forms of stored assets and datastores (the ``*_out`` helpers).

Uploaded files live in the artifact store under ``assets/<workspace>/<kind>/<name>/<version>/``
and are accepted only until the version is registered; after that a version never changes, so
a job always runs what it resolved at submission.
"""

from trainyard.jobs.assets._base import SERVER_PYTHON, STORE_PREFIX, now_ms
from trainyard.jobs.assets.convert import code_out, data_out, datastore_out, environment_out
from trainyard.jobs.assets.service import AssetService
from trainyard.jobs.assets.snapshots import BUILTIN_ENV, environment_hash

__all__ = [
    "BUILTIN_ENV",
    "SERVER_PYTHON",
    "STORE_PREFIX",
    "AssetService",
    "code_out",
    "data_out",
    "datastore_out",
    "environment_hash",
    "environment_out",
    "now_ms",
]
