"""Start-up configuration from `MICROCRED_*` environment variables.

Settings are frozen dataclasses built once by `from_env`; an invalid value
raises `SettingsError` naming the variable, so a service fails fast at start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_PREFIX = "MICROCRED_"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def cpu_cores() -> int:
    """The default size of a service's process pools: one process per core."""
    return os.cpu_count() or 1


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def env_var(name: str) -> str:
    """The full variable name: `HTTP_PORT` and `MICROCRED_HTTP_PORT` both work."""
    return name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(env_var(name))
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """A string variable; unset or blank gives `default`."""
    value = _raw(name, environ)
    return default if value is None else value


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str] | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """An integer variable, optionally bounded (inclusive)."""
    value = _raw(name, environ)
    if value is None:
        result = default
    else:
        try:
            result = int(value, 10)
        except ValueError:
            raise SettingsError(f"{env_var(name)}: expected an integer, got {value!r}") from None
    if minimum is not None and result < minimum:
        raise SettingsError(f"{env_var(name)}: must be >= {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise SettingsError(f"{env_var(name)}: must be <= {maximum}, got {result}")
    return result


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off (any case)."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{env_var(name)}: expected a boolean (true/false), got {value!r}")


def env_list(
    name: str, default: tuple[str, ...] = (), environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """A comma-separated list; blank items are dropped."""
    value = _raw(name, environ)
    if value is None:
        return default
    return tuple(item.strip() for item in value.split(",") if item.strip())


def env_choice(
    name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> str:
    """A variable restricted to `choices` (compared case-insensitively)."""
    value = env_str(name, default, environ)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise SettingsError(f"{env_var(name)}: expected one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class CommonSettings:
    """What every service needs: HTTP bind, Kafka, Redis, limits, logging."""

    service: str
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    kafka_bootstrap: str = "127.0.0.1:19092"
    # Replicas of each topic the services create: 1 on the local single
    # broker, 3 on a cluster (with min.insync.replicas=2 for acks=all).
    kafka_replication_factor: int = 1
    redis_url: str = "redis://127.0.0.1:16379/0"
    redis_prefix: str = ""
    topic_prefix: str = ""
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if not self.redis_prefix:
            object.__setattr__(self, "redis_prefix", self.service)

    @classmethod
    def from_env(
        cls, service: str, default_port: int, environ: Mapping[str, str] | None = None
    ) -> CommonSettings:
        """Read `MICROCRED_HTTP_HOST`, `_HTTP_PORT`, `_KAFKA_BOOTSTRAP`,
        `_KAFKA_REPLICATION_FACTOR`, `_REDIS_URL`,
        `_REDIS_PREFIX`, `_TOPIC_PREFIX`, `_MAX_BODY_BYTES`, `_LOG_LEVEL`."""
        redis_url = env_str("REDIS_URL", cls.redis_url, environ)
        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(
                f"{env_var('REDIS_URL')}: expected a redis:// URL, got {redis_url!r}"
            )
        return cls(
            service=service,
            http_host=env_str("HTTP_HOST", cls.http_host, environ),
            http_port=env_int("HTTP_PORT", default_port, environ, minimum=0, maximum=65535),
            kafka_bootstrap=env_str("KAFKA_BOOTSTRAP", cls.kafka_bootstrap, environ),
            kafka_replication_factor=env_int(
                "KAFKA_REPLICATION_FACTOR", cls.kafka_replication_factor, environ, minimum=1
            ),
            redis_url=redis_url,
            redis_prefix=env_str("REDIS_PREFIX", service, environ),
            topic_prefix=env_str("TOPIC_PREFIX", "", environ),
            max_body_bytes=env_int("MAX_BODY_BYTES", cls.max_body_bytes, environ, minimum=1),
            log_level=env_choice("LOG_LEVEL", cls.log_level, _LOG_LEVELS, environ),
        )
