"""Settings, read once from ``TRAINYARD_*`` variables and handed to whatever needs them.

Nothing here runs at import: ``Settings()`` is built by ``trainyard up`` (or a test) and passed to
``create_app(settings)``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Server settings. Every field can be set as ``TRAINYARD_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TRAINYARD_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".trainyard")
    host: str = "127.0.0.1"
    port: int = 8765
    database_url: str | None = None
    artifacts: str | None = None
    auth: Literal["auto", "required", "off"] = "auto"
    public_url: str | None = None
    """How jobs reach the server (``TRAINYARD_URI`` of each job); default: its own address."""
    scoring_inline_us: int = Field(default=500, ge=0)
    """A scoring request whose model run is estimated under this many microseconds runs on the
    event loop; longer ones run on a replica's thread (0: always a thread)."""

    @model_validator(mode="after")
    def _refuse_insecure(self) -> Settings:
        if self.auth == "off" and not is_loopback(self.host):
            raise ValueError(
                f"refusing to serve on {self.host} with TRAINYARD_AUTH=off: anyone on the network "
                "could read and change your data; bind to 127.0.0.1 or set TRAINYARD_AUTH=required"
            )
        return self

    @property
    def auth_required(self) -> bool:
        """Tokens are required unless the server only listens on loopback (or auth is off)."""
        if self.auth == "required":
            return True
        if self.auth == "off":
            return False
        return not is_loopback(self.host)

    @property
    def resolved_database_url(self) -> str:
        """The metadata store URL: the setting, else SQLite at ``$TRAINYARD_HOME/trainyard.db``."""
        return self.database_url or f"sqlite:///{self.home / 'trainyard.db'}"

    @property
    def resolved_artifacts(self) -> str:
        """The artifact root: the setting, else ``$TRAINYARD_HOME/artifacts``."""
        return self.artifacts or str(self.home / "artifacts")

    @property
    def admin_token_path(self) -> Path:
        """Where the bootstrap owner token is written (mode 0600) when auth is required."""
        return self.home / "admin.token"
