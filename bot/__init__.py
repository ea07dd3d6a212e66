"""Signoff: governed approvals and exceptions for Slack."""

__version__ = "0.1.0"
