"""Fixtures shared by the application-service unit tests."""

from tests.unit.services.test_application import issuer  # noqa: F401 (a fixture)
