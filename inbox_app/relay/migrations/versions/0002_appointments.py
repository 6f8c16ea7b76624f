"""patients and appointments

Revision ID: 0002_appointments
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_appointments"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=False),
        sa.Column("family_name", sa.String(length=128), nullable=False),
        sa.Column("given_name", sa.String(length=128), nullable=False),
        sa.Column("birth_date", sa.String(length=10), nullable=True),
        sa.Column("wa_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("record_number", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index(op.f("ix_patients_wa_id"), "patients", ["wa_id"], unique=False)
    op.create_table(
        "appointments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=False),
        sa.Column("patient_id", Id, nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("clinician", sa.String(length=128), nullable=True),
        sa.Column("place", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index(op.f("ix_appointments_patient_id"), "appointments", ["patient_id"])
    op.create_index("ix_appointments_start", "appointments", ["start"])
    op.create_table(
        "slot_locks",
        sa.Column("clinician", sa.String(length=128), nullable=False),
        sa.Column("unit_start", sa.Float(), nullable=False),
        sa.Column("appointment_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"]),
        sa.PrimaryKeyConstraint("clinician", "unit_start"),
    )
    op.create_index(op.f("ix_slot_locks_appointment_id"), "slot_locks", ["appointment_id"])
    op.create_table(
        "consents",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("wa_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consents_lookup", "consents", ["wa_id", "purpose", "at"])
    op.create_table(
        "reminders",
        sa.Column("appointment_id", Id, nullable=False),
        sa.Column("hours_before", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"]),
        sa.PrimaryKeyConstraint("appointment_id", "hours_before"),
    )


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_table("consents")
    op.drop_table("slot_locks")
    op.drop_table("appointments")
    op.drop_table("patients")
