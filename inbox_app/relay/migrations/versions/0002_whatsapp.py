"""whatsapp: message detail columns, inbound actions, media, calls, templates, preferences

Revision ID: 0002_whatsapp
Revises: 0001
Create Date: 2026-11-25 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_whatsapp"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reactions", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("edited_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.Float(), nullable=True))

    op.create_table(
        "inbound_actions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("wamid", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_wamid", sa.String(length=256), nullable=False),
        sa.Column("from_id", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wamid"),
    )
    with op.batch_alter_table("inbound_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_actions_target_wamid"), ["target_wamid"], unique=False
        )

    op.create_table(
        "media",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=True),
        sa.Column("declared_sha256", sa.String(length=128), nullable=True),
        sa.Column("filename", sa.String(length=256), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index("ix_media_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "call_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=256), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=True),
        sa.Column("from_id", sa.String(length=64), nullable=True),
        sa.Column("to_id", sa.String(length=64), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("conversation_id", _ID, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "event", "status", name="uq_call_event"),
    )
    op.create_table(
        "templates",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("quality", sa.String(length=16), nullable=True),
        sa.Column("parameter_format", sa.String(length=16), nullable=True),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "language", name="uq_template_name_language"),
    )
    op.create_table(
        "user_preferences",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("wa_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wa_id", "category", name="uq_user_preference"),
    )
    op.create_table(
        "webhook_errors",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("wamids", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("webhook_errors")
    op.drop_table("user_preferences")
    op.drop_table("templates")
    op.drop_table("call_events")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_due")
    op.drop_table("media")
    with op.batch_alter_table("inbound_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_actions_target_wamid"))
    op.drop_table("inbound_actions")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("reactions")
        batch_op.drop_column("details")
        batch_op.drop_column("reply_to")
