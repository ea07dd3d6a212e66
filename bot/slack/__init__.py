"""Outbound Slack: gateway, Block Kit renderers and the emulator."""
