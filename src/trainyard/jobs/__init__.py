"""The jobs service: assets, command jobs, the scheduler and its executors (local, Ray)."""

from trainyard.jobs.assets import AssetService
from trainyard.jobs.resolve import resolve as resolve_job
from trainyard.jobs.scheduler import Scheduler
from trainyard.jobs.service import JobsConfig, JobService, JobTokens, LogChunk

__all__ = [
    "AssetService",
    "JobService",
    "JobTokens",
    "JobsConfig",
    "LogChunk",
    "Scheduler",
    "resolve_job",
]
