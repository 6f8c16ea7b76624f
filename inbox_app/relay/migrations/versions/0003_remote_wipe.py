"""merge the three 0002 branches; remote wipe orders and the device behind a token

Revision ID: 0003_remote_wipe
Revises: 0002_appointments, 0002_collab, 0002_whatsapp
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_remote_wipe"
down_revision = ("0002_appointments", "0002_collab", "0002_whatsapp")
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wipe_orders",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("cleared_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("device_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("device_id")
    op.drop_table("wipe_orders")
