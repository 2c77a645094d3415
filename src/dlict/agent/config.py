"""The agent's configuration: one YAML file (``agents/agent.example.yml`` is the sample).

Read through ``core.yamlfile`` (bounded, safe loader); every problem is one line naming the
file and the key. Secrets are not here: the agent's private key is made on the agent and
stays in ``state_dir``; the enrolment token is given once on the command line or in
``DLICT_AGENT_TOKEN``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, ValidationError

from dlict.agent.jobs.settings import JobsSettings
from dlict.core.errors import ConfigError
from dlict.core.yamlfile import load_yaml_file

DEFAULT_STATE_DIR = Path("/var/lib/dlict-agent")


def _school_code_as_text(value: object) -> object:
    # YAML reads an unquoted school code (site: 4401010001) as a number; it names a school.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Name = Annotated[str, BeforeValidator(_school_code_as_text),
                 Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]


class OutboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cap_mb: float = Field(default=200, gt=0, le=100_000)
    batch_records: int = Field(default=2_000, ge=1, le=20_000)


class PushSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(default=30, ge=1, le=3_600)
    timeout_s: float = Field(default=20, ge=1, le=600)
    backoff_max_s: float = Field(default=600, ge=1, le=86_400)


class RemoteWriteSettings(BaseModel):
    """Send samples with Prometheus remote_write as well as (or instead of) to the intake."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    interval_s: float = Field(default=30, ge=1, le=3_600)
    timeout_s: float = Field(default=20, ge=1, le=600)
    ca_file: Path | None = None


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Name
    host: Name
    office: HttpUrl
    state_dir: Path = DEFAULT_STATE_DIR
    outbox: OutboxSettings = OutboxSettings()
    push: PushSettings = PushSettings()
    remote_write: RemoteWriteSettings | None = None
    jobs: JobsSettings = JobsSettings()

    @property
    def outbox_path(self) -> Path:
        return self.state_dir / "outbox.sqlite"

    @property
    def key_path(self) -> Path:
        return self.state_dir / "agent.key"

    @property
    def cert_path(self) -> Path:
        return self.state_dir / "agent.crt"

    @property
    def ca_path(self) -> Path:
        return self.state_dir / "office-ca.crt"


def load_agent_config(path: Path) -> AgentConfig:
    """The agent's configuration from ``path``.

    Raises:
        ConfigError: one line for the first problem, naming the file and the key.
    """
    data = load_yaml_file(path, ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the agent configuration must be a mapping")
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
