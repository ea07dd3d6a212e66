"""The pure core of Signoff: governance, conditions, outcomes and routing.

Nothing here does I/O or imports anything beyond the standard library and pydantic.
"""
