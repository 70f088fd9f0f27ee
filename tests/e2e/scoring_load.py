"""Concurrent scoring clients for the zero-downtime tests: every answer checked and counted by
the phase it was made in.

A request is counted under the phase that was current for its whole flight, or under
``"during a change"`` if the main thread moved to another phase meanwhile; its label is
``"<phase>: <who answered>"``. Any non-200, wrong prediction or dropped connection is a failure.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx


class ScoringLoad:
    """``clients`` threads, each on one keep-alive connection, scoring ``row`` until stopped.

    Args:
        url: the server's base URL.
        endpoint: the endpoint to score.
        key: its primary key.
        row: the request body.
        check: ``(answer) -> (who answered, whether its predictions are right)``.
        first: the name of the first phase.
    """

    def __init__(
        self,
        url: str,
        endpoint: str,
        key: str,
        row: dict[str, Any],
        check: Callable[[dict[str, Any]], tuple[str, bool]],
        first: str,
        clients: int = 4,
    ) -> None:
        self.answered: Counter[str] = Counter()
        self.failures: list[str] = []
        self._phases = [first]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._args = (url, endpoint, key, row, check)
        self._threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def __enter__(self) -> ScoringLoad:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)

    def phase(self, name: str) -> None:
        """Start the phase ``name`` (requests in flight across the change are not counted in it)."""
        self._phases.append(name)

    def _client(self) -> None:
        url, endpoint, key, row, check = self._args
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            while not self._stop.is_set():
                begun = len(self._phases)
                who = ""
                try:
                    resp = http.post(f"/endpoints/{endpoint}/score", json=row)
                    ok = resp.status_code == 200
                    if ok:
                        who, ok = check(resp.json())
                    problem = None if ok else f"{resp.status_code} {resp.text[:200]}"
                except Exception as exc:  # a dropped connection is a failure too
                    problem = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    now = self._phases[-1]
                    if problem is not None:
                        self.failures.append(f"{now}: {problem}")
                    else:
                        phase = now if len(self._phases) == begun else "during a change"
                        self.answered[f"{phase}: {who}"] += 1
