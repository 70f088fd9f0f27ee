"""The tracking service: experiments, runs, params, metrics, tags and artifacts."""

from trainyard.tracking.service import TrackingService

__all__ = ["TrackingService"]
