"""call log: one row per WhatsApp call (its wacid), who started it and how long it lasted

Revision ID: 0006_call_details
Revises: 0005_merge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_call_details"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_log") as batch:
        batch.add_column(sa.Column("direction", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("duration", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("call_id", sa.String(length=256), nullable=True))
        batch.create_index("ix_call_log_call_id", ["call_id"])


def downgrade() -> None:
    with op.batch_alter_table("call_log") as batch:
        batch.drop_index("ix_call_log_call_id")
        batch.drop_column("call_id")
        batch.drop_column("duration")
        batch.drop_column("direction")
