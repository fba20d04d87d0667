"""Custom Rasa input channels: SMS through Twilio (signed webhooks) and helpers they share.

Nothing here imports the backend: the channels talk to it over HTTP (docs/API.md).
"""
