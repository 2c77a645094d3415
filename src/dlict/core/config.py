"""Configuration: defaults, then a YAML file, then ``DLICT_*`` environment, then CLI options.

The file is the one named by ``--config``, else ``$DLICT_CONFIG``, else ``/etc/dlict/config.yaml``
when it exists. Secrets never live here: they come from Ansible Vault or the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dlict.core.errors import ConfigError
from dlict.core.yamlfile import load_yaml_file
from dlict.i18n import Lang

SYSTEM_CONFIG = Path("/etc/dlict/config.yaml")
ENV_PREFIX = "DLICT_"


def default_data_dir() -> Path:
    """/var/lib/dlict for root (the office controller), else the user's XDG data dir."""
    if os.geteuid() == 0:
        return Path("/var/lib/dlict")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dlict"


class Settings(BaseModel):
    """Everything dlict reads from configuration; each field also has a DLICT_<NAME> variable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inventory: Path | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    lang: Lang = "th"
    # The console shows warnings and errors; the log file (commands that record runs) keeps all.
    log_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "WARNING"
    log_json: bool = False
    forks: int = Field(default=20, ge=1, le=500)
    ssh_timeout: int = Field(default=20, ge=1, le=600)
    # Ansible's Mitogen strategy: one Python per host kept for the whole run instead of an
    # SSH exec and a module upload per task (docs/decisions.md, issue 18). Off: plain linear.
    mitogen: bool = True
    # Ansible programs an audit runs at once, each on its share of the hosts. One by default:
    # on a 2-core controller whose hosts share its cores, two were slower (docs/decisions.md).
    ansible_runs: int = Field(default=1, ge=1, le=64)
    # Worker nodes an audit deals its hosts over (ssh destinations; "a,b" in DLICT_WORKERS):
    # each runs its share of the plays through ansible-runner's streaming (docs/guide).
    workers: tuple[str, ...] = ()
    # An ssh_config file for reaching the worker nodes (ssh -F); none: ssh's own.
    worker_ssh_config: Path | None = None
    # The ansible-runner program on the worker nodes.
    worker_runner: str = "ansible-runner"

    @field_validator("workers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("inventory", "data_dir")
    @classmethod
    def _no_nul_byte(cls, value: Path | None) -> Path | None:
        # the operating system refuses such a path with a ValueError, far from its origin
        if value is not None and "\0" in str(value):
            raise ValueError("a path cannot contain a NUL byte")
        return value

    @property
    def store_path(self) -> Path:
        return self.data_dir / "evidence.sqlite"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "dlict.log"


def _env_values(environ: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in Settings.model_fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = raw
    return values


def _file_values(path: Path) -> dict[str, Any]:
    data = load_yaml_file(path, ConfigError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    return data


def _describe(exc: ValidationError, origin: str, env_names: bool) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        if env_names:
            field = ENV_PREFIX + field.upper()
        msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"{origin}: {field}: {msg}")
    return parts[0] if len(parts) == 1 else "; ".join(parts)


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from every source, later ones winning.

    Arguments:
        config_file: a file named on the command line (must exist).
        overrides: values given as CLI options; ``None`` values are ignored.
        environ: the environment (``os.environ`` when not given).

    Raises:
        ConfigError: a file is unreadable or a value is invalid, naming where it came from.
    """
    env = os.environ if environ is None else environ
    path = config_file
    if path is None and env.get(ENV_PREFIX + "CONFIG"):
        path = Path(env[ENV_PREFIX + "CONFIG"])
    if path is not None and not path.exists():
        raise ConfigError(f"{path}: configuration file not found")
    if path is None and SYSTEM_CONFIG.is_file():
        path = SYSTEM_CONFIG

    merged: dict[str, Any] = {}
    if path is not None:
        file_values = _file_values(path)
        try:
            Settings(**file_values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, str(path), env_names=False)) from exc
        merged.update(file_values)
    env_values = _env_values(env)
    try:
        Settings(**{**merged, **env_values})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "environment", env_names=True)) from exc
    merged.update(env_values)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "command line", env_names=False)) from exc
