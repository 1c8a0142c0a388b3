"""Domain errors, and what counts as an infrastructure error.

Application code raises these; they are mapped once to HTTP (in
`shared.web.problems.problem_middleware`) and once to retry-or-dead-letter
(in `shared.kafka.consumer.ConsumerLoop`), never read back from an HTTP
status. Each subclass says how it maps: its status, title and problem name
for HTTP, and `transient` for the consumer loop (retry with backoff, never
dead-letter).
"""

from __future__ import annotations

from typing import ClassVar

import redis.exceptions
from aiokafka.errors import KafkaError


class DomainError(Exception):
    """A request the domain refuses (422 unless a subclass says otherwise)."""

    status: ClassVar[int] = 422
    title: ClassVar[str] = "Unprocessable Content"
    # `urn:microcred:problem:<problem>` when set, else about:blank.
    problem: ClassVar[str | None] = None
    # Retried by consumers (never dead-lettered) and answered with Retry-After.
    transient: ClassVar[bool] = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, object] = {}


class InvalidField(DomainError):
    """One request member is unusable: names its path (`$.a.b`), like a
    schema error of the body (`shared.web.body.validation_error`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{message} at {path}")
        self.extra = {"errors": [{"path": path, "message": message}]}


class InvalidFields(DomainError):
    """Several request members are unusable: every one named, with its path
    and what is wrong (the same `errors` member as `InvalidField`)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        listed = "; ".join(f"{message} at {path}" for path, message in errors)
        super().__init__(listed or "the request is invalid")
        self.extra = {"errors": [{"path": path, "message": message} for path, message in errors]}


class NotFound(DomainError):
    """Unknown, or another tenant's (the same answer: invariant 7)."""

    status = 404
    title = "Not Found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key with a different request (IETF httpapi draft §2.7)."""

    title = "Idempotency-Key reused"
    problem = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different request")


class Unavailable(DomainError):
    """A dependency (Redis, Kafka) cannot be reached right now: retry shortly."""

    status = 503
    title = "Service Unavailable"
    problem = "unavailable"
    transient = True


class Rebuilding(Unavailable):
    """The service's derived state is being rebuilt from Kafka (invariant 3):
    acting on it before it caught up could give a wrong answer."""

    problem = "rebuilding"

    def __init__(self, detail: str = "the service is rebuilding its state; retry shortly") -> None:
        super().__init__(detail)


# Errors of the infrastructure, not of the request or the record: a consumer
# retries them without end (invariant 8), HTTP answers 503 with Retry-After.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # includes BusyLoadingError (AOF loading)
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.LockError,
    KafkaError,
    ConnectionError,
    TimeoutError,
    Unavailable,
)


def is_transient(error: BaseException) -> bool:
    """True for infrastructure errors and transient domain errors."""
    return isinstance(error, INFRASTRUCTURE_ERRORS)
