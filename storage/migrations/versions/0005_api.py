"""The HTTP API lists a client's requests newest first, by kind (keyset pagination on id).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_requests_kind_id", "requests", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_requests_kind_id", table_name="requests")
