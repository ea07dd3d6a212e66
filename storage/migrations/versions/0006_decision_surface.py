"""The decision surface (DESIGN §8): imported history and shadow rules.

``imported_id`` is a past request's id in the system it came from (``signoff history import``;
unique, so importing it again skips it; null for requests filed in Signoff). ``shadow`` holds
what the kind's shadow rules would have decided (DESIGN §3.7), a JSON list. Reports read
requests by submission time, hence the index on ``created_at``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("imported_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("shadow", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))
        batch.create_unique_constraint("uq_requests_imported_id", ["imported_id"])
    op.create_index("ix_requests_created_at", "requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_requests_created_at", table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("uq_requests_imported_id", type_="unique")
        batch.drop_column("shadow")
        batch.drop_column("imported_id")
