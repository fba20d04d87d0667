"""What the bot must not keep from a parent's words (bot/privacy/sensitive.yml)."""
