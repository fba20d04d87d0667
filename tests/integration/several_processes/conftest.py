"""What the several-processes tests share: the real Redis at 127.0.0.1:6379 they meet through."""

from __future__ import annotations

import os
import socket

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _redis_is_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _redis() -> None:
    if not _redis_is_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is required under CI (.ci/run starts it)")
        pytest.skip("no Redis at 127.0.0.1:6379")
