"""The Trainyard SDK over HTTP: the transport seam, retries, the metric batcher, one module per
resource. The public names are re-exported by ``trainyard``; import them from there."""

from trainyard.client._transport import RetryPolicy
from trainyard.client.batcher import BatcherOptions, MetricBatcher
from trainyard.client.context import get_run, log
from trainyard.client.experiment import Experiment
from trainyard.client.run import Run
from trainyard.client.workspace import Workspace, connect

__all__ = [
    "BatcherOptions",
    "Experiment",
    "MetricBatcher",
    "RetryPolicy",
    "Run",
    "Workspace",
    "connect",
    "get_run",
    "log",
]
