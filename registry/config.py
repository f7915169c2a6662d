"""Service settings, read from ``REGISTRY_*`` environment variables.

Every value is checked at start-up; a bad one stops the process with one line that names the
variable (see :func:`load_settings`), so a misconfigured deployment fails before serving anyone.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "REGISTRY_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(Exception):
    """A setting has a value the service cannot run with."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("var"), description="Where files the service keeps live.")
    database_url: str = Field(
        default="",
        description="sqlite:///path/to/file.db or postgresql://user@host:port/name; "
        "empty means an SQLite file in the data directory.",
    )
    secret_key: str = Field(
        default="",
        description="Signs sessions and tokens; generated into the data directory when unset.",
        repr=False,
    )
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of the service.")
    smtp_url: str = Field(
        default="", description="smtp://user:pass@host:port or smtps://…", repr=False
    )
    mail_from: str = Field(
        default="Probation practitioner register <no-reply@probation-register.example>",
        description="The From address of every email the service sends.",
    )
    environment: Literal["development", "production", "test"] = "development"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    renewal_opens: str = Field(
        default="09-01", description="MM-DD: the renewal window opens on this day each year."
    )
    renewal_deadline: str = Field(
        default="11-30", description="MM-DD: registrations run to this day and renew by it."
    )
    renewal_grace_days: int = Field(default=21, ge=0, le=365)
    log_format: Literal["console", "json"] = "console"
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of the load balancers and "
        "proxies in front of the service; X-Forwarded-For is believed only from these.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:///, postgresql:// or postgres://")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("must look like smtp://host:port or smtps://user:pass@host:port")
        return value

    @field_validator("renewal_opens", "renewal_deadline")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            datetime.strptime(f"2001-{value}", "%Y-%m-%d")  # a year without 29 February
        except ValueError:
            raise ValueError("must be a month and day as MM-DD, like 11-30") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        for part in _listed(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or network, like 10.0.0.0/8 or 192.0.2.7"
                ) from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'registry.sqlite3'}"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith(("postgresql://", "postgres://"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.resolved_database_url.removeprefix("sqlite:///"))

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def trusted_networks(self) -> tuple[IPNetwork, ...]:
        # Not a cached_property: model_copy(update=...) copies the instance's __dict__, so a
        # copy with other proxies would keep the networks the original had already worked out.
        return _networks(self.trusted_proxies)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def _networks(listed: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(part, strict=False) for part in _listed(listed))


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and ``overrides``), raising :class:`SettingsError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{ENV_PREFIX}{field.upper()}", message) from None


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key: the configured one, else one kept in the data directory.

    The generated key is written once with 0600 permissions so every worker and every restart
    signs with the same key.
    """
    if settings.secret_key:
        return settings
    key_file = settings.data_dir / SECRET_KEY_FILE
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            _write_private_file(key_file, secrets.token_urlsafe(48))
        key = key_file.read_text().strip()
    except OSError as error:
        raise SettingsError(
            f"{ENV_PREFIX}DATA_DIR", f"cannot keep the secret key in {key_file}: {error.strerror}"
        ) from None
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(f"{ENV_PREFIX}SECRET_KEY", f"the key in {key_file} is too short")
    return settings.model_copy(update={"secret_key": key})


def _write_private_file(path: Path, content: str) -> None:
    # O_EXCL: two workers starting at once must not overwrite each other's key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
