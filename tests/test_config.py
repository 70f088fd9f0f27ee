"""Settings: defaults and refusal of insecure combinations."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from trainyard.config import Settings


def test_defaults_are_embedded_and_loopback(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    assert s.host == "127.0.0.1" and s.port == 8765
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'trainyard.db'}"
    assert s.resolved_artifacts == str(tmp_path / "artifacts")
    assert not s.auth_required


def test_any_other_address_requires_tokens(tmp_path: Path) -> None:
    assert Settings(home=tmp_path, host="0.0.0.0").auth_required
    assert Settings(home=tmp_path, host="::1").auth_required is False
    assert Settings(home=tmp_path, auth="required").auth_required


def test_auth_off_on_the_network_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="TRAINYARD_AUTH"):
        Settings(home=tmp_path, host="0.0.0.0", auth="off")


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRAINYARD_HOME", str(tmp_path))
    monkeypatch.setenv("TRAINYARD_DATABASE_URL", "postgresql://u:p@h/db")
    s = Settings()
    assert s.home == tmp_path and s.resolved_database_url == "postgresql://u:p@h/db"
