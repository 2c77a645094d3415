"""Configuration precedence and the one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlict.core.config import load_settings
from dlict.core.errors import ConfigError


def test_precedence_file_then_environment_then_options(tmp_path: Path) -> None:
    config = tmp_path / "dlict.yaml"
    config.write_text("lang: en\nforks: 7\ndata_dir: /srv/a\n")
    env = {"DLICT_FORKS": "9"}
    settings = load_settings(config, overrides={"data_dir": tmp_path / "b"}, environ=env)
    assert settings.lang == "en"  # from the file
    assert settings.forks == 9  # the environment beats the file
    assert settings.data_dir == tmp_path / "b"  # the command line beats both


def test_config_from_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("lang: en\n")
    assert load_settings(environ={"DLICT_CONFIG": str(config)}).lang == "en"


def test_defaults_without_any_source() -> None:
    settings = load_settings(environ={})
    assert settings.lang == "th"
    assert settings.inventory is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lang: fr\n", r"dlict.yaml: lang: Input should be 'th' or 'en'"),
        ("langauge: en\n", r"dlict.yaml: langauge: unknown setting"),
        ("forks: [1\n", r"dlict.yaml:2: malformed YAML"),
        ("- a list\n", r"dlict.yaml: the configuration must be a mapping"),
    ],
)
def test_bad_file_names_file_and_setting(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "dlict.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_settings(config, environ={})


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"environment: DLICT_FORKS: Input should be"):
        load_settings(environ={"DLICT_FORKS": "many"})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"configuration file not found"):
        load_settings(tmp_path / "absent.yaml", environ={})
