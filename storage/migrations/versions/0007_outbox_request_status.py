"""The outbox's index on request_id also holds status.

The webhook claim skips a row while an earlier row of its (subscription, request) still waits
(``storage.outbox_store``). That check runs once per due row; on ``request_id`` alone, PostgreSQL
with statistics that lag a fast-growing backlog combined it with the due index and read the
whole backlog for every row (a claim took 250 ms at 2,000 waiting rows, growing with the square).
On ``(request_id, status)`` each check is one short index lookup whatever the statistics say.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_request_id", table_name="outbox")
    op.create_index("ix_outbox_request_status", "outbox", ["request_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_request_status", table_name="outbox")
    op.create_index("ix_outbox_request_id", "outbox", ["request_id"])
