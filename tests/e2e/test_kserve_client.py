"""A KServe/Triton client (``tritonclient.http``) unchanged against a real server's endpoints:
metadata, readiness, and inference with binary tensors both ways (its defaults) and with JSON."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.server.test_endpoints import endpoint, register
from tests.serving.models import iris_classifier, mixed_classifier
from tests.support import RunningServer

ROWS = np.asarray([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)


def test_triton_client_scores_with_binary_and_json_tensors(sqlite_server: RunningServer) -> None:
    with httpx.Client(base_url=sqlite_server.api, timeout=60) as api:
        iris = register(api, iris_classifier())
        name = endpoint(api, auth="key", blue=iris)
        key = api.get(f"/endpoints/{name}/keys").json()["primary"]
    client = triton.InferenceServerClient(sqlite_server.url.removeprefix("http://"))

    def auth() -> dict[str, str]:  # a new dict per call: the client adds its own headers to it
        return {"Authorization": f"Bearer {key}"}

    assert client.is_server_live() and client.is_server_ready()
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    assert client.is_model_ready(name, headers=auth())
    meta = client.get_model_metadata(name, headers=auth())
    assert meta["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]

    for binary in (True, False):
        x = triton.InferInput("X", list(ROWS.shape), "FP32")
        x.set_data_from_numpy(ROWS, binary_data=binary)
        wanted = [triton.InferRequestedOutput("label", binary_data=binary)]
        result = client.infer(name, [x], outputs=wanted, headers=auth(), request_id="r7")
        assert result.as_numpy("label").tolist() == [0, 2]
        response = result.get_response()
        assert response["model_version"] == "1" and response["id"] == "r7"
        label = response["outputs"][0]
        assert ("binary_data_size" in label.get("parameters", {})) == binary
        assert ("data" in label) != binary
        full = client.infer(name, [x], model_version="1", headers=auth())
        probabilities = full.as_numpy("probabilities")
        assert probabilities.shape == (2, 3) and np.allclose(probabilities.sum(axis=1), 1)

    with pytest.raises(InferenceServerException, match="shape"):
        bad = triton.InferInput("X", [1, 3], "FP32")
        bad.set_data_from_numpy(ROWS[:1, :3])
        client.infer(name, [bad], headers=auth())
    with pytest.raises(InferenceServerException, match="not a key"):
        client.infer(name, [x], headers={"Authorization": "Bearer nope"})
    client.close()


def test_triton_client_sends_strings_as_binary_bytes(sqlite_server: RunningServer) -> None:
    with httpx.Client(base_url=sqlite_server.api, timeout=60) as api:
        name = endpoint(api, blue=register(api, mixed_classifier()))
    client = triton.InferenceServerClient(sqlite_server.url.removeprefix("http://"))
    inputs = []
    for column, datatype, value in (
        ("age", "INT64", np.array([[30], [52]], dtype=np.int64)),
        ("income", "FP32", np.array([[1.5], [3.0]], dtype=np.float32)),
        ("city", "BYTES", np.array([["lima"], ["quito"]], dtype=np.object_)),
    ):
        tensor = triton.InferInput(column, list(value.shape), datatype)
        tensor.set_data_from_numpy(value)  # binary by default, strings length-prefixed
        inputs.append(tensor)
    result = client.infer(name, inputs)
    json_inputs = []
    for tensor, value in zip(inputs, ("age", "income", "city"), strict=True):
        again = triton.InferInput(value, tensor.shape(), tensor.datatype())
        json_inputs.append(again)
    json_inputs[0].set_data_from_numpy(np.array([[30], [52]], dtype=np.int64), binary_data=False)
    json_inputs[1].set_data_from_numpy(
        np.array([[1.5], [3.0]], dtype=np.float32), binary_data=False
    )
    json_inputs[2].set_data_from_numpy(
        np.array([["lima"], ["quito"]], dtype=np.object_), binary_data=False
    )
    expected = client.infer(name, json_inputs)
    first = result.get_response()["outputs"][0]["name"]
    assert result.as_numpy(first).tolist() == expected.as_numpy(first).tolist()
    client.close()
