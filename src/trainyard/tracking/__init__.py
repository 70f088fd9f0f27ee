"""The tracking service: experiments, runs, params, metrics, tags, artifacts, logged models."""

from trainyard.tracking.logged_models import LoggedModelService
from trainyard.tracking.service import TrackingService

__all__ = ["LoggedModelService", "TrackingService"]
