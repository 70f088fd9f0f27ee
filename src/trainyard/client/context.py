"""The run of the current job: ``trainyard.get_run()`` and ``trainyard.log()``.

A job started by Trainyard gets ``TRAINYARD_RUN_ID`` (with ``TRAINYARD_URI``,
``TRAINYARD_WORKSPACE`` and ``TRAINYARD_TOKEN``) in its environment. The first call attaches to
that run, once per process (a forked child attaches afresh). The job owns the run's status, so
the SDK never completes it; its metrics are flushed at interpreter exit.

Example (inside a job's ``train.py``)::

    import trainyard

    for epoch in range(10):
        trainyard.log("loss", train_one_epoch())
"""

from __future__ import annotations

import os
import threading

from trainyard.client.run import Run
from trainyard.client.workspace import Workspace
from trainyard.errors import InvalidArgument

RUN_ID_ENV = "TRAINYARD_RUN_ID"

_lock = threading.Lock()
_current: tuple[int, Run] | None = None


def get_run() -> Run:
    """The run this process runs in, from ``$TRAINYARD_RUN_ID``.

    Raises:
        InvalidArgument: ``TRAINYARD_RUN_ID`` is not set (not inside a job).
        trainyard.errors.NotFound: the run does not exist on the server.
    """
    current = _current
    if current is not None and current[0] == os.getpid():
        return current[1]
    return _attach()


def log(name: str, value: float, step: int | None = None) -> None:
    """Log a metric to the current job's run (see :meth:`Run.log`).

    Example::

        trainyard.log("accuracy", 0.93, step=epoch)
    """
    get_run().log(name, value, step)


def _attach() -> Run:
    global _current
    with _lock:
        pid = os.getpid()
        if _current is not None and _current[0] == pid:
            return _current[1]
        run_id = os.environ.get(RUN_ID_ENV)
        if not run_id:
            raise InvalidArgument(
                f"there is no current run: {RUN_ID_ENV} is not set. Start a run with "
                "`exp.start_run()` (exp = trainyard.connect().experiment('name')), "
                "or run this code inside a Trainyard job"
            )
        run = Workspace()._attach(run_id, owns_status=False)
        _current = (pid, run)
        return run


def _reset() -> None:
    """Forget the attached run (for tests)."""
    global _current
    with _lock:
        _current = None
