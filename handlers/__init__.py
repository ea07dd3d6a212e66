"""Inbound Slack surfaces: parse, call one service, answer."""
