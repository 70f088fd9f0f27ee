"""Importers: copy another tracking server's data into a Trainyard workspace through the SDK.

Only reading the other server is specific to it (its REST API, with httpx); writing goes through
the same REST API as the rest of the SDK. ``trainyard import mlflow`` is the command on top.
"""

from trainyard.client.importers._base import ImportProgress, ImportSummary
from trainyard.client.importers._mlflow_api import MlflowSource
from trainyard.client.importers.mlflow import import_mlflow

__all__ = ["ImportProgress", "ImportSummary", "MlflowSource", "import_mlflow"]
