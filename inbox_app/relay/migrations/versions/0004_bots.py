"""the intake and booking bots' state per conversation (relay/bots/state.py) and the
bookings by chat still to be written to the practice system's FHIR server (bots/fhir.py)

Revision ID: 0004_bots
Revises: 0003_remote_wipe
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_bots"
down_revision = "0003_remote_wipe"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bot_states",
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("flow", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_table(
        "fhir_bookings",
        sa.Column("appointment_id", Id, nullable=False),
        sa.Column("slot_reference", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"]),
        sa.PrimaryKeyConstraint("appointment_id"),
    )


def downgrade() -> None:
    op.drop_table("fhir_bookings")
    op.drop_table("bot_states")
