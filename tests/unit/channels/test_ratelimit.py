"""Token buckets of the channels: a burst passes, the next message waits for the refill, and
one key's flood leaves every other key alone."""

from __future__ import annotations

import pytest

from bot.channels.ratelimit import ChannelLimits, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_messages_wait_for_the_refill() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=6, burst=3, clock=clock)
    assert [buckets.allow("a") for _ in range(5)] == [True, True, True, False, False]
    clock.now += 10  # 6 a minute: one token every 10 s
    assert [buckets.allow("a"), buckets.allow("a")] == [True, False]
    clock.now += 3600  # never more than the burst after a long pause
    assert sum(buckets.allow("a") for _ in range(10)) == 3


def test_one_key_flooding_does_not_touch_another() -> None:
    buckets = TokenBuckets(per_minute=1, burst=2, clock=Clock())
    assert sum(buckets.allow("flood") for _ in range(100)) == 2
    assert buckets.allow("parent") is True


def test_the_number_of_keys_is_bounded() -> None:
    buckets = TokenBuckets(per_minute=1, burst=1, max_keys=10, clock=Clock())
    for n in range(1000):
        buckets.allow(f"k{n}")
    assert len(buckets._buckets) == 10


def test_both_limits_apply_to_a_message() -> None:
    clock = Clock()
    limits = ChannelLimits(TokenBuckets(60, 5, clock=clock), TokenBuckets(60, 2, clock=clock))
    # One conversation: its own limit (2) first.
    assert [limits.allow("1.2.3.4", "web_a") for _ in range(3)] == [True, True, False]
    # Other conversations from the same address: the address limit (5 in all) stops them.
    passed = [limits.allow("1.2.3.4", f"web_{n}") for n in range(10)]
    assert sum(passed) == 2  # 3 of the address's 5 tokens were already taken above
    # Another address is untouched.
    assert limits.allow("5.6.7.8", "web_z") is True


def test_limits_come_from_the_environment_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_RATE_BURST_CONVERSATION", "4")
    monkeypatch.setenv("WEB_RATE_PER_MINUTE_ADDRESS", "not a number")
    limits = ChannelLimits.from_env("WEB")
    assert limits.by_conversation.burst == 4
    assert limits.by_address.per_minute == 60  # unreadable: the default
    sms = ChannelLimits.from_env("SMS", address_per_minute=600)
    assert (sms.by_address.per_minute, sms.by_conversation.burst) == (600, 10)
