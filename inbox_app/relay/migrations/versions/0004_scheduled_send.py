"""scheduled sends: when a staff message is to leave (the outbox waits until then)

Revision ID: 0004_scheduled_send
Revises: 0003_remote_wipe
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_scheduled_send"
down_revision = "0003_remote_wipe"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("send_at", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "send_at")
