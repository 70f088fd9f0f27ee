"""Executors: where a prepared job's process runs (``local`` processes, a ``ray`` cluster)."""
