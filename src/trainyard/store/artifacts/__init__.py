"""Artifact stores: files under a root, over fsspec."""
