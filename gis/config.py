"""One place for configuration: environment variables (and `monitor.toml` beside the checkout) read once."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / "monitor.toml"


def _file_values(section: str) -> dict:
    if not CONFIG_FILE.exists():
        return {}
    return tomllib.loads(CONFIG_FILE.read_text()).get(section, {})


class Settings(BaseSettings):
    """Service settings. `DATABASE_URL` unset means: use the private cluster inside the checkout."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL", "MONITOR_DATABASE_URL"))
    data_dir: Path = Field(
        ROOT.parent / "shared" / "data" / "rosario", validation_alias=AliasChoices("MONITOR_DATA_DIR")
    )
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "MONITOR_HOST"))
    port: int = Field(8000, validation_alias=AliasChoices("PORT", "MONITOR_PORT"))
    cluster_dir: Path = Field(ROOT / ".pgcluster", validation_alias=AliasChoices("MONITOR_CLUSTER_DIR"))
    # None: a free port derived from the checkout's path, fixed when the private cluster is created.
    cluster_port: int | None = Field(None, validation_alias=AliasChoices("MONITOR_PG_PORT"))
    database_name: str = Field("monitor", validation_alias=AliasChoices("MONITOR_DB_NAME"))
    pool_size: int = Field(8, validation_alias=AliasChoices("MONITOR_POOL_SIZE"))
    statement_timeout_ms: int = Field(15000, validation_alias=AliasChoices("MONITOR_STATEMENT_TIMEOUT_MS"))
    demo_seed: int = Field(20211, validation_alias=AliasChoices("MONITOR_DEMO_SEED"))
    public_url: str | None = Field(None, validation_alias=AliasChoices("MONITOR_PUBLIC_URL"))
    # Documents attached to records (an experience's minutes), stored by their SHA-256.
    documents_dir: Path = Field(ROOT / "documents", validation_alias=AliasChoices("MONITOR_DOCUMENTS_DIR"))
    # How long a request waits for a database connection before answering 503 (also libpq's connect_timeout).
    db_wait_seconds: int = Field(5, ge=2, validation_alias=AliasChoices("MONITOR_DB_WAIT_SECONDS"))
    # Host names the service answers to when MONITOR_PUBLIC_URL is unset (its links are then built from the
    # request's Host header, which must not be any name a client sends). Comma-separated; "*" allows any.
    allowed_hosts: str = Field("127.0.0.1,localhost,::1", validation_alias=AliasChoices("MONITOR_ALLOWED_HOSTS"))
    # Under the map (layers/basemap.py, docs/web-map.md): `local` (streets and names from the monitor's own data),
    # `none`, a MapLibre style URL, or a PMTiles basemap archive (a path or an http(s) URL ending in .pmtiles).
    basemap: str = Field("local", validation_alias=AliasChoices("MONITOR_BASEMAP"))
    # Requests per client (api/ratelimit.py, docs/operations.md), in the `limits` notation ("1200/minute", several
    # separated by ";"; empty or "none": no limit), counted in memory per server process. Every request counts
    # toward its address's `reads` budget; writes (POST, PUT, PATCH, DELETE, sign-in) also toward `writes`, per
    # bearer token or, without one, per address.
    rate_limit_reads: str = Field("1200/minute", validation_alias=AliasChoices("MONITOR_RATE_LIMIT_READS"))
    rate_limit_writes: str = Field("60/minute;600/hour", validation_alias=AliasChoices("MONITOR_RATE_LIMIT_WRITES"))

    @field_validator("rate_limit_reads", "rate_limit_writes")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        from limits import parse_many

        if value.strip() and value.strip().lower() not in ("none", "off", "0"):
            parse_many(value)  # a ValueError names what it could not read: the service refuses to start
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Precedence: explicit arguments, then the environment, then monitor.toml [service].
        return init_settings, env_settings, lambda: _file_values("service")


@lru_cache
def get_settings() -> Settings:
    return Settings()
