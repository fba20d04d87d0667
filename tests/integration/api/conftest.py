"""API test fixtures (in api_harness.py, shared with the payment end-to-end test)."""

from api_harness import backend, city, database_url, demo_backend  # noqa: F401
