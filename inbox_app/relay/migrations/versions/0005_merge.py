"""merge this session's 0004 branches (automation, bots, escalations, results, retention,
satisfaction, scheduled sends, TOTP) into one head

Revision ID: 0005_merge
Revises: 0004_automation, 0004_bots, 0004_escalations, 0004_results, 0004_retention,
    0004_satisfaction, 0004_scheduled_send, 0004_totp
"""

from __future__ import annotations

revision = "0005_merge"
down_revision = (
    "0004_automation",
    "0004_bots",
    "0004_escalations",
    "0004_results",
    "0004_retention",
    "0004_satisfaction",
    "0004_scheduled_send",
    "0004_totp",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
