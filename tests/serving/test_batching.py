"""Dynamic batching with real sessions: concurrent small requests share ONNX Runtime runs.

Runs are counted with ``trainyard_scoring_batch_rows`` (observed once per batched run, with its
row count); every batched answer is compared with the same request answered by a deployment of
the same model without batching: labels, strings and integers equal, floats within float32's
rounding (ONNX Runtime's matrix kernels add in another order for more rows).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import numpy as np
import orjson
import pytest

from tests.serving.conftest import WS, Stack
from tests.serving.models import (
    IRIS_COLUMNS,
    iris_classifier,
    lookup_model,
    mixed_classifier,
    scale_model,
    slow_model,
)
from trainyard.core.serving import AuthMode, Batching, RequestLimits
from trainyard.errors import InvalidArgument
from trainyard.serving.protocols import NativeProtocol, OpenInferenceProtocol, ScoringProtocol
from trainyard.serving.runtime import DeadlineExceeded

NATIVE = NativeProtocol()
OIP = OpenInferenceProtocol()
IRIS = np.random.default_rng(1).uniform(0.5, 7.5, size=(20, 4)).round(2).tolist()


def _deploy(stack: Stack, content: bytes, batching: Batching, **kwargs: Any) -> None:
    """Endpoint ``ep``: ``batched`` (with ``batching``, 100% of the traffic) and ``plain``
    (the same model, unbatched)."""
    stack.register("m", content)
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "batched", "m:1", batching=batching, **kwargs)
    stack.service.create_deployment(WS, "ep", "plain", "m:1")


async def _one(
    stack: Stack, doc: Any, deployment: str | None, protocol: ScoringProtocol = NATIVE
) -> dict[str, Any]:
    body = orjson.dumps(doc)

    async def read(limit: int) -> bytes:
        return body

    payload, _ = await stack.scoring.score(protocol, WS, "ep", None, deployment, len(body), read)
    return orjson.loads(payload)  # type: ignore[no-any-return]


def _concurrently(
    stack: Stack,
    docs: list[Any],
    deployment: str | None = "batched",
    protocols: list[ScoringProtocol] | None = None,
) -> list[Any]:
    """Every request at once (``asyncio.gather``): each answer, or the error it raised."""
    protocols = protocols or [NATIVE] * len(docs)

    async def go() -> list[Any]:
        return await asyncio.gather(
            *(_one(stack, d, deployment, p) for d, p in zip(docs, protocols, strict=True)),
            return_exceptions=True,
        )

    return asyncio.run(go())


def _alone(stack: Stack, doc: Any, protocol: ScoringProtocol = NATIVE) -> dict[str, Any]:
    """The unbatched answer, from ``plain``, as ``batched`` would name itself."""
    answer = asyncio.run(_one(stack, doc, "plain", protocol))
    if protocol is OIP:
        answer["parameters"]["deployment"] = "batched"
    else:
        answer["deployment"] = "batched"
    return answer


def _same(got: Any, want: Any) -> bool:
    """Equal, but floats only within float32 rounding (see the module docstring)."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(_same(got[k], want[k]) for k in want)
        )
    if isinstance(want, list) and want and all(isinstance(v, float) for v in np.ravel(want)):
        return bool(np.allclose(got, want, rtol=1e-5, atol=1e-7))
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    return bool(got == want)


def _sample(stack: Stack, name: str, deployment: str = "batched", **labels: str) -> float:
    found = stack.host.metrics.registry.get_sample_value(
        name, {"workspace": WS, "endpoint": "ep", "deployment": deployment, **labels}
    )
    return found or 0.0


def _batches(stack: Stack) -> tuple[int, int]:
    """Batched runs so far, and the rows they scored."""
    count = _sample(stack, "trainyard_scoring_batch_rows_count")
    rows = _sample(stack, "trainyard_scoring_batch_rows_sum")
    return int(count), int(rows)


def test_concurrent_single_rows_share_runs_and_answer_as_alone(stack: Stack) -> None:
    _deploy(stack, iris_classifier(), Batching(max_rows=8, max_wait_us=5000))
    docs = [{"inputs": [row]} for row in IRIS]
    answers = _concurrently(stack, docs)
    assert _batches(stack) == (3, 20)  # 8 + 8 (full) + 4 (after max_wait): 3 runs, not 20
    assert _sample(stack, "trainyard_scoring_batch_rows_bucket", le="4.0") == 1
    for doc, answer in zip(docs, answers, strict=True):
        assert _same(answer, _alone(stack, doc)), (answer, _alone(stack, doc))
    assert _sample(stack, "trainyard_scoring_requests_total") == 20
    assert _sample(stack, "trainyard_scoring_rows_total") == 20
    assert stack.host.table.route(WS, "ep").targets["batched"].runtime.in_flight == 0


def test_a_partial_batch_runs_after_max_wait_and_a_full_one_at_once(stack: Stack) -> None:
    _deploy(stack, iris_classifier(), Batching(max_rows=4, max_wait_us=60_000))
    start = time.perf_counter()
    answers = _concurrently(stack, [{"inputs": [row]} for row in IRIS[:3]])
    waited = time.perf_counter() - start
    assert all(isinstance(a, dict) for a in answers), answers
    assert _batches(stack) == (1, 3) and waited >= 0.055  # 3 of 4 rows: it waited 60 ms

    start = time.perf_counter()
    _concurrently(stack, [{"inputs": [row]} for row in IRIS[:8]])
    assert time.perf_counter() - start < 0.05  # two full batches: no waiting
    assert _batches(stack) == (3, 11)


def test_a_request_of_more_rows_than_the_threshold_runs_alone(stack: Stack) -> None:
    _deploy(stack, iris_classifier(), Batching(max_rows=32, max_wait_us=1000))
    batcher = stack.host.table.route(WS, "ep").targets["batched"].batcher
    assert batcher is not None and batcher.request_rows == 4

    async def fast_path(rows: list[list[float]]) -> tuple[bool, dict[str, Any]]:
        body = orjson.dumps({"inputs": rows})
        result = stack.scoring.score_body(NATIVE, WS, "ep", None, "batched", body)
        if isinstance(result, tuple):
            return False, orjson.loads(result[0])
        payload, _ = await result
        return True, orjson.loads(payload)

    later, answer = asyncio.run(fast_path(IRIS[:4]))
    assert later and _same(answer, _alone(stack, {"inputs": IRIS[:4]}))
    assert _batches(stack) == (1, 4)
    later, answer = asyncio.run(fast_path(IRIS[:5]))  # 5 rows: answered inline, unbatched
    assert not later and _same(answer, _alone(stack, {"inputs": IRIS[:5]}))
    assert _batches(stack) == (1, 4)
    big = _concurrently(stack, [{"inputs": IRIS[:10]}, {"inputs": IRIS[10:]}])
    assert [a["predictions"] for a in big] == [
        _alone(stack, {"inputs": IRIS[:10]})["predictions"],
        _alone(stack, {"inputs": IRIS[10:]})["predictions"],
    ]
    assert _batches(stack) == (1, 4)


def test_a_bad_row_fails_alone_when_decoded(stack: Stack) -> None:
    _deploy(stack, iris_classifier(), Batching(max_rows=32, max_wait_us=2000))
    docs: list[Any] = [{"inputs": [row]} for row in IRIS[:10]]
    docs[4] = [{**dict(zip(IRIS_COLUMNS, IRIS[4], strict=True)), "sepal width (cm)": "wide"}]
    answers = _concurrently(stack, docs)
    assert isinstance(answers[4], InvalidArgument)
    assert answers[4].details["column"] == "sepal width (cm)"
    for i in (0, 1, 2, 3, 5, 6, 7, 8, 9):
        assert _same(answers[i], _alone(stack, docs[i]))
    assert _batches(stack) == (1, 9)  # the bad request never joined the batch
    errors = "trainyard_scoring_errors_total"
    assert _sample(stack, errors, code="INVALID_ARGUMENT") == 1


def test_a_row_the_model_refuses_fails_alone(stack: Stack) -> None:
    _deploy(stack, lookup_model(), Batching(max_rows=16, max_wait_us=2000))
    docs = [{"inputs": [[i % 3]]} for i in range(10)]
    docs[6] = {"inputs": [[7]]}  # decodes fine; ONNX Runtime refuses the index
    answers = _concurrently(stack, docs)
    assert isinstance(answers[6], InvalidArgument)
    assert "could not score these rows" in answers[6].message
    assert [a["predictions"] for i, a in enumerate(answers) if i != 6] == [
        [10.0 * (1 + i % 3)] for i in range(10) if i != 6
    ]
    assert _batches(stack) == (1, 10)  # one batched run refused, then each request alone
    assert _sample(stack, "trainyard_scoring_requests_total") == 10
    assert _sample(stack, "trainyard_scoring_errors_total", code="INVALID_ARGUMENT") == 1


def _oip(records: list[dict[str, Any]], outputs: list[str] | None) -> dict[str, Any]:
    """An Open Inference request for ``records`` of the mixed model (``outputs``: asked for)."""
    kinds = {"age": "INT64", "income": "FP64", "city": "BYTES"}
    doc: dict[str, Any] = {
        "id": f"r{len(records)}",
        "inputs": [
            {
                "name": name,
                "shape": [len(records), 1],
                "datatype": kind,
                "data": [r[name] for r in records],
            }
            for name, kind in kinds.items()
        ],
    }
    if outputs is not None:
        doc["outputs"] = [{"name": n} for n in outputs]
    return doc


def test_mixed_inputs_string_labels_and_protocols_split_per_request(stack: Stack) -> None:
    _deploy(stack, mixed_classifier(string_labels=True), Batching(max_rows=16, max_wait_us=5000))
    rng = np.random.default_rng(2)
    records = [
        {"age": int(rng.integers(18, 80)), "income": float(rng.normal(5e4, 1e4)), "city": c}
        for c in ["paris", "tokyo", "lima"] * 4
    ]
    docs: list[Any] = []
    protocols: list[ScoringProtocol] = []
    for i in range(0, 12, 2):  # requests of 2 then 1 rows, native records or OIP tensors
        if i % 4 == 0:
            docs.append(records[i : i + 2])
            protocols.append(NATIVE)
        else:
            docs.append(_oip(records[i : i + 2], ["label"] if i % 3 else None))
            protocols.append(OIP)
        docs.append([records[i + 1]])
        protocols.append(NATIVE)
    answers = _concurrently(stack, docs, protocols=protocols)
    assert _batches(stack) == (2, 18)  # 15 rows (2 more would overfill it), then 3
    labels = set()
    for doc, protocol, answer in zip(docs, protocols, answers, strict=True):
        assert _same(answer, _alone(stack, doc, protocol)), answer
        if protocol is NATIVE:
            assert len(answer["probabilities"]) == len(answer["predictions"]) == len(doc)
            labels.update(answer["predictions"])
        else:
            names = [o["name"] for o in answer["outputs"]]
            assert names == (["label"] if "outputs" in doc else ["label", "probabilities"])
            assert answer["id"] == "r2" and answer["outputs"][0]["datatype"] == "BYTES"
    assert labels == {"yes", "no"}


def test_a_failed_batch_fails_each_of_its_requests(stack: Stack) -> None:
    _deploy(
        stack,
        slow_model(),
        Batching(max_rows=32, max_wait_us=1000),
        limits=RequestLimits(timeout_ms=1),
    )
    answers = _concurrently(stack, [{"inputs": [[1.0, 2.0, 3.0]]}] * 30)  # ~4 ms for 30 rows
    assert all(isinstance(a, DeadlineExceeded) for a in answers), answers
    assert _batches(stack) == (1, 30)
    assert _sample(stack, "trainyard_scoring_errors_total", code="UNAVAILABLE") == 30
    assert stack.host.table.route(WS, "ep").targets["batched"].runtime.in_flight == 0
    stack.service.update_deployment(WS, "ep", "batched", limits=RequestLimits(timeout_ms=5000))
    fine = _concurrently(stack, [{"inputs": [[1.0, 2.0, 3.0]]}] * 3)
    assert all(a["predictions"] == [[2e5, 4e5, 6e5]] for a in fine), fine


def test_each_batched_request_is_mirrored_and_logged(stack: Stack) -> None:
    _deploy(stack, scale_model(2.0), Batching(max_rows=8, max_wait_us=2000), log_requests=True)
    stack.service.set_traffic(WS, "ep", {"batched": 100}, {"plain": 100})
    rows = [[float(i), 1.0, 2.0] for i in range(6)]
    answers = _concurrently(stack, [{"inputs": [r]} for r in rows], deployment=None)
    assert [a["predictions"] for a in answers] == [[[2 * v for v in r]] for r in rows]
    assert _batches(stack) == (1, 6)
    assert stack.host.mirror.wait_idle()
    assert _sample(stack, "trainyard_scoring_mirror_total", "plain", outcome="match") == 6
    stack.host.request_log.flush()
    folder = "serving-logs/default/ep"
    files = [f.path for f in stack.artifacts.list(folder, True) if f.path.endswith(".jsonl")]
    text = b"".join(b"".join(stack.artifacts.iter_read(f"{folder}/{f}")) for f in files)
    lines = [orjson.loads(x) for x in text.splitlines()]
    assert sorted(line["inputs"]["x"][0][0] for line in lines) == [r[0] for r in rows]
    assert all(line["rows"] == 1 and line["deployment"] == "batched" for line in lines)
    assert all(line["outputs"]["y"] == [[2 * v for v in line["inputs"]["x"][0]]] for line in lines)


def test_batching_is_validated_kept_and_switched_off(stack: Stack) -> None:
    stack.register("m", scale_model(2.0))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    for bad, field in (
        (Batching(max_rows=1), "batching.max_rows"),
        (Batching(max_rows=64), "batching.max_rows"),  # over limits.max_rows (32 here)
        (Batching(max_wait_us=0), "batching.max_wait_us"),
        (Batching(max_wait_us=100_001), "batching.max_wait_us"),
    ):
        with pytest.raises(InvalidArgument, match=re.escape(field)) as err:
            stack.service.create_deployment(
                WS, "ep", "blue", "m:1", limits=RequestLimits(max_rows=32), batching=bad
            )
        assert err.value.details[0]["field"] == field
    d = stack.service.create_deployment(WS, "ep", "blue", "m:1", batching=Batching(16, 800))
    assert d.batching == Batching(16, 800)
    batcher = stack.host.table.route(WS, "ep").targets["blue"].batcher
    assert batcher is not None
    stack.service.update_endpoint(WS, "ep", description="a new table, the same batcher")
    assert stack.host.table.route(WS, "ep").targets["blue"].batcher is batcher
    with pytest.raises(InvalidArgument, match=r"batching\.max_rows"):
        stack.service.update_deployment(WS, "ep", "blue", limits=RequestLimits(max_rows=8))
    d = stack.service.update_deployment(WS, "ep", "blue", log_requests=True)
    assert d.batching == Batching(16, 800)  # left out: kept
    d = stack.service.update_deployment(WS, "ep", "blue", batching=False)
    assert d.batching is None and stack.host.table.route(WS, "ep").targets["blue"].batcher is None


def test_a_model_that_cannot_be_batched_is_served_unbatched(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    import onnx
    from onnx import helper as h

    graph = h.make_graph(  # any width: requests of different widths cannot be concatenated
        [h.make_node("Identity", ["x"], ["y"])],
        "any",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, None])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, None])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    _deploy(stack, model.SerializeToString(), Batching(max_rows=8, max_wait_us=1000))
    assert stack.host.table.route(WS, "ep").targets["batched"].batcher is None
    assert "cannot be batched" in caplog.text
    answers = _concurrently(stack, [{"inputs": [[1.0, 2.0]]}, {"inputs": [[1.0, 2.0, 3.0]]}])
    assert [a["predictions"] for a in answers] == [[[1.0, 2.0]], [[1.0, 2.0, 3.0]]]
    assert _batches(stack) == (0, 0)
