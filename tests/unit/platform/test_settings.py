import dataclasses

import pytest

from shared.redis_keys import offsets_key, redis_key
from shared.settings import (
    CommonSettings,
    SettingsError,
    env_bool,
    env_int,
    env_list,
)


def test_defaults_work_on_the_local_stack() -> None:
    s = CommonSettings.from_env("verifier", 8080, environ={})
    assert s.service == "verifier"
    assert s.http_port == 8080
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.redis_url == "redis://127.0.0.1:16379/0"
    assert s.redis_prefix == "verifier"
    assert s.topic_prefix == ""
    assert s.max_body_bytes == 1024 * 1024
    assert s.log_level == "INFO"


def test_values_come_from_prefixed_variables() -> None:
    env = {
        "MICROCRED_HTTP_PORT": "9001",
        "MICROCRED_HTTP_HOST": "0.0.0.0",
        "MICROCRED_KAFKA_BOOTSTRAP": "k:1",
        "MICROCRED_KAFKA_REPLICATION_FACTOR": "3",
        "MICROCRED_REDIS_URL": "redis://r:2/3",
        "MICROCRED_REDIS_PREFIX": "v2",
        "MICROCRED_TOPIC_PREFIX": "t1.",
        "MICROCRED_MAX_BODY_BYTES": "2048",
        "MICROCRED_LOG_LEVEL": "debug",
        "HTTP_PORT": "1",  # unprefixed variables are ignored
    }
    s = CommonSettings.from_env("issuer", 8082, environ=env)
    assert (s.http_host, s.http_port) == ("0.0.0.0", 9001)
    assert s.kafka_bootstrap == "k:1"
    assert s.kafka_replication_factor == 3
    assert s.redis_url == "redis://r:2/3"
    assert s.redis_prefix == "v2"
    assert s.topic_prefix == "t1."
    assert s.max_body_bytes == 2048
    assert s.log_level == "DEBUG"


def test_settings_are_frozen() -> None:
    s = CommonSettings.from_env("catalog", 8081, environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.http_port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("MICROCRED_HTTP_PORT", "eighty"),
        ("MICROCRED_HTTP_PORT", "70000"),
        ("MICROCRED_MAX_BODY_BYTES", "0"),
        ("MICROCRED_LOG_LEVEL", "LOUD"),
        ("MICROCRED_REDIS_URL", "http://x"),
    ],
)
def test_invalid_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        CommonSettings.from_env("x", 8080, environ={var: value})
    assert var in str(info.value)


def test_helpers() -> None:
    env = {"MICROCRED_A": " yes ", "MICROCRED_B": "a, b,,c", "MICROCRED_N": "  "}
    assert env_bool("A", False, env) is True
    assert env_bool("MICROCRED_N", True, env) is True  # blank means default
    assert env_list("B", (), env) == ("a", "b", "c")
    assert env_int("N", 5, env) == 5
    with pytest.raises(SettingsError, match="MICROCRED_A"):
        env_int("A", 1, env)
    with pytest.raises(SettingsError, match="MICROCRED_B"):
        env_bool("B", False, env)


def test_redis_keys() -> None:
    assert redis_key("verifier", "issuer", "did:web:x") == "verifier:issuer:did:web:x"
    assert offsets_key("p", "status.lists") == "p:offsets:status.lists"
    with pytest.raises(ValueError):
        redis_key("", "x")
