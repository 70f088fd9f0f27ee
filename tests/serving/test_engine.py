"""The request path's three ways to run a request, each giving the same answer: inline, on a
replica's thread (many rows), and with the body decoded on the thread too (a large body)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import orjson
import pytest

from tests.serving.conftest import WS, Stack
from tests.serving.models import regressor
from trainyard.core.serving import AuthMode
from trainyard.errors import InvalidArgument
from trainyard.serving.engine import INLINE_BODY_BYTES


def test_inline_threaded_and_large_bodies_answer_alike(stack: Stack) -> None:
    content = regressor()
    stack.register("gb", content)
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "gb:1")
    runtime = stack.host.table.route(WS, "ep").targets["blue"].runtime
    rows = np.random.default_rng(3).normal(size=(1000, 20))
    session = ort.InferenceSession(content, providers=["CPUExecutionProvider"])
    expected = session.run(None, {"X": rows.astype(np.float32)})[0].ravel()
    assert len(orjson.dumps({"inputs": rows.tolist()})) > INLINE_BODY_BYTES  # decoded on a thread

    def check(answer: dict[str, object], n: int) -> None:
        assert np.allclose(np.asarray(answer["predictions"]), expected[:n], rtol=1e-6)

    check(stack.score({"inputs": rows.tolist()}), 1000)  # large body
    check(stack.score({"inputs": rows[:50].tolist()}), 50)  # inline
    runtime.model.inline_rows = 0
    check(stack.score({"inputs": rows[:50].tolist()}), 50)  # on a replica's thread
    assert runtime.in_flight == 0
    bad = rows.tolist()
    bad[900] = bad[900][:5]
    with pytest.raises(InvalidArgument, match="row 900 has 5 values"):
        stack.score({"inputs": bad})  # a large body's refusal still names the row
    assert runtime.in_flight == 0
