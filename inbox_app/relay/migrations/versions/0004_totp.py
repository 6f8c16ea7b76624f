"""staff TOTP second factor; read reports from desktops (searches), audited once each

Revision ID: 0004_totp
Revises: 0003_remote_wipe
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_totp"
down_revision = "0003_remote_wipe"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "totp_factors",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("confirmed_at", sa.Float(), nullable=True),
        sa.Column("last_step", Id, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "read_reports",
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("client_id"),
    )


def downgrade() -> None:
    op.drop_table("read_reports")
    op.drop_table("totp_factors")
