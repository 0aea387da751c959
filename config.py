"""Typed settings read from the environment, with local defaults that just work."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-change-me"
# The bcrypt cost of the password scheme (auth/passwords.py documents it).
PRODUCTION_HASH_ROUNDS = 12
# scheme://host[:port], nothing else: a frame-ancestors source must not widen.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _split_origins(value: str) -> list[str]:
    """The comma-separated origins of a setting, trimmed, without empty items."""
    return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]


class SettingsError(RuntimeError):
    """Raised when the settings cannot be used to start the app."""


class Settings(BaseSettings):
    """Every setting the app reads; environment variables use the same names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    app_env: Literal["development", "test", "production"] = "development"
    # repr=False keeps secrets (and URLs that may carry passwords) out of logs.
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, repr=False)
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    log_level: str = "INFO"
    # Proxies in front of the app whose X-Forwarded-* headers are trusted (nginx: 1).
    trusted_proxy_count: int = Field(default=0, ge=0, le=5)

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/insightboard", repr=False
    )
    database_pool_max: int = Field(default=10, ge=1)
    create_database: bool = True

    mongo_uri: str | None = Field(default=None, repr=False)
    mongo_db: str = "insightboard"
    mongo_timeout_ms: int = Field(default=5000, ge=100)

    redis_url: str | None = Field(default=None, repr=False)
    redis_timeout_s: float = Field(default=0.5, gt=0)

    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    local_store_dir: str = "var/objects"

    jwt_audience: str = "insightboard-api"
    jwt_ttl_s: int = Field(default=3600, ge=60)
    session_cookie_secure: bool = False
    session_ttl_s: int = Field(default=12 * 3600, ge=60)
    # bcrypt's cost for new password hashes (2**rounds iterations; auth/passwords.py).
    # Production refuses less than the scheme's 12; the test suite uses 4, since
    # it registers thousands of accounts and does not test bcrypt's strength.
    password_hash_rounds: int = Field(default=PRODUCTION_HASH_ROUNDS, ge=4, le=16)
    # How long a session or account read from PostgreSQL is reused (auth/session_cache).
    session_cache_ttl_s: int = Field(default=60, ge=0, le=3600)
    remember_me_days: int = Field(default=14, ge=1, le=365)
    login_rate_limit: str = "10/minute"
    register_rate_limit: str = "5/minute"
    # Share links (/share/<token>): requests per link, and the origins allowed to
    # frame them (comma-separated, e.g. "https://intranet.example"; empty: none).
    share_rate_limit: str = "300/minute"
    # Calls per agent token (REST aggregate reads and MCP requests alike).
    agent_rate_limit: str = "120/minute"
    embed_allowed_origins: str = ""

    max_upload_mb: int = Field(default=200, ge=1)
    max_rows: int = Field(default=5_000_000, ge=1)
    max_columns: int = Field(default=500, ge=1)
    # Ingest (data/ingest): see the module docstrings for what each one bounds.
    max_line_kb: int = Field(default=1024, ge=1)
    max_dimension_columns: int = Field(default=5, ge=0)
    max_bad_row_fraction: float = Field(default=0.1, ge=0, le=1)
    ingest_chunk_rows: int = Field(default=25_000, ge=100)
    ingest_mode: Literal["auto", "rq", "rq-local", "thread", "inline"] = "auto"
    ingest_queue: str = Field(default="ingest", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    ingest_stale_after_s: int = Field(default=120, ge=1)
    # Appends (data/ingest/append.py): records per batch, and after how long an
    # append's hold on a version counts as dead (its process was killed).
    append_max_records: int = Field(default=10_000, ge=1)
    append_lease_s: float = Field(default=30, gt=0)
    append_max_mb: int = Field(default=16, ge=1)

    # Reports (data/reports): the largest stored file, and how long a presigned S3
    # download link lives.
    report_max_kb: int = Field(default=20 * 1024, ge=16, le=500 * 1024)
    report_link_ttl_s: int = Field(default=300, ge=30, le=3600)
    # Scheduled reports: seconds between looks for due schedules (0: never, e.g.
    # tests that drive the schedule with their own clock).
    report_schedule_interval_s: int = Field(default=60, ge=0)
    # Outgoing mail (scheduled reports now, alerts later): unset host = no mail.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_from: str = "insightboard@localhost"
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_s: float = Field(default=10, gt=0)
    # Alerts (data/alerts): seconds between scheduled evaluations (0: never), and
    # webhook deliveries: tries, and the first wait between them (then doubled).
    alert_schedule_interval_s: int = Field(default=60, ge=0)
    alert_webhook_retries: int = Field(default=4, ge=1, le=10)
    alert_webhook_backoff_s: float = Field(default=1.0, ge=0, le=60)
    # Webhooks to loopback/private/link-local addresses are refused unless true.
    alert_webhook_allow_private: bool = False

    @model_validator(mode="after")
    def _refuse_weak_secret_in_production(self) -> Settings:
        if self.app_env == "production" and (
            not self.secret_key or self.secret_key == DEFAULT_SECRET_KEY
        ):
            raise ValueError(
                "SECRET_KEY must be set to a strong random value when "
                "APP_ENV=production (it is missing or still the development default)"
            )
        if self.app_env == "production" and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters in production")
        if (
            self.app_env == "production"
            and self.password_hash_rounds < PRODUCTION_HASH_ROUNDS
        ):
            raise ValueError(
                f"PASSWORD_HASH_ROUNDS must be at least {PRODUCTION_HASH_ROUNDS} "
                "in production"
            )
        return self

    @field_validator("embed_allowed_origins")
    @classmethod
    def _origins_only(cls, value: str) -> str:
        for origin in _split_origins(value):
            if not ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin[:60]!r} is not an origin like https://intranet.example"
                    " (scheme, host and optional port; no path, no wildcard)"
                )
        return value

    @property
    def embed_origins(self) -> tuple[str, ...]:
        """The origins allowed to frame share links (CSP frame-ancestors)."""
        return tuple(_split_origins(self.embed_allowed_origins))

    @property
    def in_process_mongo(self) -> bool:
        """True when no MongoDB server is configured and the in-process engine runs."""
        return not self.mongo_uri

    @property
    def resolved_ingest_mode(self) -> str:
        """How ingest jobs run: an RQ worker process, RQ in this process, or threads."""
        if self.ingest_mode != "auto":
            return self.ingest_mode
        if not self.redis_url:
            return "thread"
        # The in-process engine lives in this process only: a separate worker
        # could not see its data, so the queue is consumed here.
        return "rq-local" if self.in_process_mongo else "rq"

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


def describe_errors(error: ValidationError) -> str:
    """One readable line per problem, naming the variable but never its value."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        names = [str(part).upper() for part in item["loc"] if part != "__root__"]
        problems.append(f"{'.'.join(names)}: {message}" if names else message)
    return "; ".join(problems)


def load_settings(overrides: dict | None = None) -> Settings:
    """Build settings from the environment, with explicit overrides taking priority."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as error:
        # `from None`: pydantic's own message would echo the inputs, secrets included.
        raise SettingsError(
            f"Invalid configuration: {describe_errors(error)}"
        ) from None
