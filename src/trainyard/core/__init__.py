"""Entities, value objects and pure rules: no framework, no I/O."""
