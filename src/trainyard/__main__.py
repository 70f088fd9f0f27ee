"""``python -m trainyard`` runs the command line."""

from trainyard.cli.main import app

app()
