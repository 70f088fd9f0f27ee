"""The web studio's templates and static files (shipped in the wheel; no code).

The routes that render them are in ``trainyard/server/routers/ui*.py``; see ``docs/ui.md``.
"""
