"""The HTTP server: one FastAPI app wiring stores, services and routers (``create_app``)."""
