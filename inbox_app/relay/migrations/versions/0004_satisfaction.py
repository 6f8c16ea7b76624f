"""satisfaction questions after resolved conversations, and their answers

Revision ID: 0004_satisfaction
Revises: 0003_remote_wipe
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_satisfaction"
down_revision = "0003_remote_wipe"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "satisfaction_surveys",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("wa_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", Id, nullable=True),
        sa.Column("asked_at", sa.Float(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_satisfaction_surveys_conversation_id", "satisfaction_surveys", ["conversation_id"]
    )
    op.create_index("ix_satisfaction_surveys_wa_id", "satisfaction_surveys", ["wa_id", "asked_at"])


def downgrade() -> None:
    op.drop_table("satisfaction_surveys")
