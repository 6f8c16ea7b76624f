"""the automation cursor: how far the relay's own handlers got through inbound messages

Revision ID: 0004_automation
Revises: 0003_remote_wipe
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_automation"
down_revision = "0003_remote_wipe"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "automation_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("automation_cursors")
