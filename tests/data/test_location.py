"""Where the data collection is found, and the message when it is not."""

import pytest

from gammarules.data import ENV_VAR, resolve_data_dir
from gammarules.errors import ConfigError


def test_config_value_wins_over_environment(tmp_path, monkeypatch):
    (tmp_path / "from_config").mkdir()
    (tmp_path / "from_env").mkdir()
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from_env"))
    assert resolve_data_dir(str(tmp_path / "from_config")) == tmp_path / "from_config"
    assert resolve_data_dir(None) == tmp_path / "from_env"


def test_nothing_configured_says_how_to_get_the_data(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match="GAMMARULES_DATA") as error:
        resolve_data_dir(None)
    assert "Zenodo" in str(error.value)


def test_missing_directory_is_named(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(ENV_VAR, str(missing))
    with pytest.raises(ConfigError, match=f"{missing} \\(from GAMMARULES_DATA\\) does not exist"):
        resolve_data_dir(None)


def test_required_subdirectory(tmp_path):
    with pytest.raises(ConfigError, match="has no 'hess-dl3-dr1' sub-directory"):
        resolve_data_dir(str(tmp_path), required="hess-dl3-dr1")
    (tmp_path / "hess-dl3-dr1").mkdir()
    assert resolve_data_dir(str(tmp_path), required="hess-dl3-dr1") == tmp_path
