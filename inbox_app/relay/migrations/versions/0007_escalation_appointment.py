"""escalations: the appointment one is about (an appointment on a day the practice is closed)

Revision ID: 0007_escalation_appointment
Revises: 0006_call_details
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_escalation_appointment"
down_revision = "0006_call_details"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("appointment_id", _ID, nullable=True))
        batch.create_index("ix_escalations_appointment_id", ["appointment_id"])


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_appointment_id")
        batch.drop_column("appointment_id")
