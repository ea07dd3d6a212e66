"""Outbound webhooks (DESIGN §9): signing and POSTing; an adapter, like ``bot.slack``."""
