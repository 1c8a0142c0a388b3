"""Every Redis key pattern, in one place: `<prefix>:<entity>:<id...>`.

The prefix is the service's `CommonSettings.redis_prefix` (default: the
service name), so services sharing one Redis never collide. Services add
their own entity names below, next to the platform's.
"""

from __future__ import annotations

# Platform entities.
OFFSETS = "offsets"  # hash per topic: partition -> next offset to read
REPLAYED = "replayed"  # set once a service's replay from Kafka caught up


def redis_key(prefix: str, entity: str, *parts: str | int) -> str:
    """Build `<prefix>:<entity>:<part>:...`; empty segments are refused."""
    segments = [prefix, entity, *(str(part) for part in parts)]
    if any(segment == "" for segment in segments):
        raise ValueError(f"empty segment in Redis key {segments!r}")
    return ":".join(segments)


def offsets_key(prefix: str, topic: str) -> str:
    """Hash of the next offset to consume per partition of `topic`."""
    return redis_key(prefix, OFFSETS, topic)


def replayed_key(prefix: str) -> str:
    """Present while the state rebuilt from Kafka is intact; a Redis wipe removes it."""
    return redis_key(prefix, REPLAYED)
