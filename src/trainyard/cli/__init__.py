"""The ``trainyard`` command line: a user of the SDK (only ``up`` and ``db`` load the server)."""
