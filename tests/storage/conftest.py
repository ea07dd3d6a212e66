"""Storage tests use the lifecycle governance and runtime of the service tests."""

from tests.services.conftest import governance, runtime, tables  # noqa: F401  (fixtures)
