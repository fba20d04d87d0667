"""Where several Rasa processes keep what they share (bot/endpoints-several-processes.yml), as the
environment those processes read: the PostgreSQL tracker store and the Redis lock store.
Standard library only, like scripts/stack.py."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class SharedStores:
    """What several Rasa processes share (bot/endpoints-several-processes.yml): the tracker
    store's PostgreSQL database and the Redis lock store's database number."""

    tracker_db_name: str = "inscriptions_conversations"
    tracker_db_host: str = "127.0.0.1"
    tracker_db_port: int = 5432
    tracker_db_user: str = "postgres"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_lock_db: int = 0

    @classmethod
    def from_env(cls) -> SharedStores:
        env = os.environ
        return cls(
            tracker_db_name=env.get("TRACKER_DB_NAME", cls.tracker_db_name),
            tracker_db_host=env.get("TRACKER_DB_HOST", cls.tracker_db_host),
            tracker_db_port=int(env.get("TRACKER_DB_PORT", cls.tracker_db_port)),
            tracker_db_user=env.get("TRACKER_DB_USER", cls.tracker_db_user),
            redis_host=env.get("REDIS_HOST", cls.redis_host),
            redis_port=int(env.get("REDIS_PORT", cls.redis_port)),
            redis_lock_db=int(env.get("REDIS_LOCK_DB", cls.redis_lock_db)),
        )

    def env(self) -> dict[str, str]:
        return {
            "TRACKER_DB_HOST": self.tracker_db_host,
            "TRACKER_DB_PORT": str(self.tracker_db_port),
            "TRACKER_DB_NAME": self.tracker_db_name,
            "TRACKER_DB_USER": self.tracker_db_user,
            "TRACKER_DB_PASSWORD": os.environ.get("TRACKER_DB_PASSWORD", ""),
            "TRACKER_DB_LOGIN_DB": os.environ.get("TRACKER_DB_LOGIN_DB", "postgres"),
            "REDIS_HOST": self.redis_host,
            "REDIS_PORT": str(self.redis_port),
            "REDIS_LOCK_DB": str(self.redis_lock_db),
            # the SMS channel's memory of Twilio retries (bot/channels/twilio_sms.py)
            "REDIS_URL": os.environ.get(
                "REDIS_URL", f"redis://{self.redis_host}:{self.redis_port}/{self.redis_lock_db}"),
            # the web chat's socket.io servers share one message queue, so a message pushed into
            # a conversation reaches its socket whichever process holds it (bot/channels/webchat.py)
            "SOCKETIO_REDIS_URL": os.environ.get(
                "SOCKETIO_REDIS_URL",
                f"redis://{self.redis_host}:{self.redis_port}/{self.redis_lock_db}"),
        }
