"""The scoring routes, at the root: ``/endpoints/{name}/score``, the Open Inference Protocol v2
(``/v2/...``) and ``/metrics``.

They are plain Starlette routes, not FastAPI ones: no dependency injection, no pydantic, no
OpenAPI entry; the two POST routes are plain ASGI (``scoring_asgi.py``, which also answers them
as a middleware, before the app's stack) over :class:`trainyard.serving.Scoring`. ``create_app``
puts them first in the route list; ``trainyard serve`` builds an app of these routes alone
(``server/scoring_app.py``).

Workspace: the ``X-Trainyard-Workspace`` header names it; without it, ``default``. A header
rather than a path prefix keeps the paths KServe-style clients expect (``/v2/models/{name}``).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from trainyard.errors import TrainyardError
from trainyard.server.errors import STATUS_BY_CODE
from trainyard.server.scoring_asgi import DEFAULT_WORKSPACE, NATIVE, ScoringEndpoint
from trainyard.serving import Scoring
from trainyard.serving.metrics import CONTENT_TYPE
from trainyard.serving.protocols import OpenInferenceProtocol, ScoringProtocol
from trainyard.serving.protocols.oip import tensor_metadata
from trainyard.serving.routing import Route as EndpointRoute

log = logging.getLogger("trainyard.server")

JSON = "application/json"
WORKSPACE_HEADER = "x-trainyard-workspace"
DEPLOYMENT_HEADER = "x-trainyard-deployment"


def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers, JSON)


def _error(protocol: ScoringProtocol, exc: TrainyardError) -> Response:
    status = getattr(exc, "http_status", None) or STATUS_BY_CODE.get(exc.code, 500)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return _json(protocol.error_body(exc.code, exc.message, exc.details), status, headers)


def scoring_routes(scoring: Scoring) -> list[BaseRoute]:
    """The scoring, OIP and metrics routes over ``scoring``'s host."""
    oip = OpenInferenceProtocol()
    host = scoring.host

    def _route(request: Request) -> EndpointRoute:
        workspace = request.headers.get(WORKSPACE_HEADER) or DEFAULT_WORKSPACE
        route = host.table.route(workspace, request.path_params["name"])
        route.authorize(request.headers.get("authorization"))
        return route

    async def model_metadata(request: Request) -> Response:
        version = request.path_params.get("version")
        try:
            route = _route(request)
            wanted = request.headers.get(DEPLOYMENT_HEADER)
            if version is not None:
                target = route.for_version(version, wanted)
            else:  # the deployment named, else the one with the largest share
                target = route.choose(wanted or route.largest())
        except TrainyardError as exc:
            return _error(oip, exc)
        model = target.runtime.model
        doc = {
            "name": route.name,
            **({"version": version} if version is not None else {}),
            "versions": route.versions(),
            "platform": "onnxruntime_onnx",
            "inputs": [tensor_metadata(t) for t in model.inputs.tensors],
            "outputs": [
                {"name": n, "datatype": _ort_datatype(model.output_types[n]), "shape": [-1]}
                for n in model.outputs
            ],
            "parameters": {"deployment": target.name, "model": target.runtime.model_name},
        }
        return _json(_dumps(doc))

    async def model_ready(request: Request) -> Response:
        version = request.path_params.get("version")
        try:
            route = _route(request)
        except TrainyardError as exc:
            return _error(oip, exc)
        if version is not None:
            ready = version in route.versions()
        else:
            ready = bool(route.names) and all(n in route.targets for n in route.names)
        return _json(_dumps({"name": route.name, "ready": ready}), 200 if ready else 503)

    async def live(_: Request) -> Response:
        return _json(b'{"live":true}')

    async def ready(_: Request) -> Response:
        ok = host.ready
        return _json(b'{"ready":true}' if ok else b'{"ready":false}', 200 if ok else 503)

    async def server_metadata(_: Request) -> Response:
        from trainyard._version import __version__

        doc = {"name": "trainyard", "version": __version__, "extensions": ["binary_tensor_data"]}
        return _json(_dumps(doc))

    async def metrics(_: Request) -> Response:
        return Response(host.metrics.render(), media_type=CONTENT_TYPE)

    return [
        Route("/endpoints/{name}/score", ScoringEndpoint(scoring, NATIVE), methods=["POST"]),
        Route("/v2/models/{name}/infer", ScoringEndpoint(scoring, oip), methods=["POST"]),
        Route("/v2/models/{name}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{name}", model_metadata, methods=["GET"]),
        Route(
            "/v2/models/{name}/versions/{version}/infer",
            ScoringEndpoint(scoring, oip),
            methods=["POST"],
        ),
        Route("/v2/models/{name}/versions/{version}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", model_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def _dumps(doc: Any) -> bytes:
    import orjson

    return orjson.dumps(doc)


def _ort_datatype(ort_type: str) -> str:
    from trainyard.serving.inputs import ORT_TYPES
    from trainyard.serving.protocols.oip import datatype_of

    dtype = ORT_TYPES.get(ort_type)
    return "BYTES" if dtype is None else datatype_of(dtype)
