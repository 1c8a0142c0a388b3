"""Structured JSON logs (structlog + orjson) with context from contextvars.

Event names are `noun.verb` (`credential.revoked`). Context such as
`request_id` or `topic/partition/offset` is bound with
`structlog.contextvars` and merged into every line. Never log credential
bodies, proofs, keys or secrets.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["bind_request_id", "configure_logging", "get_logger"]


def _add_service(service: str) -> Processor:
    def add(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add


def _orjson_dumps(value: MutableMapping[str, object], **_: object) -> bytes:
    return orjson.dumps(value, default=repr)


def _orjson_dumps_str(value: MutableMapping[str, object], **_: object) -> str:
    return orjson.dumps(value, default=repr).decode()


def _shared_processors(service: str) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send structlog and stdlib logging (aiohttp, aiokafka) to stdout as JSON lines."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared = _shared_processors(service)
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer(serializer=_orjson_dumps)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.BytesLoggerFactory(sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(serializer=_orjson_dumps_str),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO))


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    """A structlog logger; `name` is bound as `component` when given.

    It stays a lazy proxy (initial values, no `.bind()`), so module-level
    loggers created before `configure_logging` still use its configuration."""
    logger: structlog.typing.FilteringBoundLogger = (
        structlog.get_logger(component=name) if name else structlog.get_logger()
    )
    return logger


def bind_request_id(request_id: str) -> None:
    """Bind `request_id` into the log context of the current task."""
    structlog.contextvars.bind_contextvars(request_id=request_id)
