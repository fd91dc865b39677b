"""digest and reminders: the weekly lead digest's switch, and members' reminder times

`groups.digest` is `setup digest=` (on by default, existing groups too): the weekly DM
to each lead. `memberships.remind_at` is `/study remind HH:MM`, the member's local time
for a reminder while the day's question is unanswered (none set by default), indexed with
the group so the clock finds the due groups' reminders without reading every member.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(
            sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("remind_at", sa.Time(), nullable=True))
    op.create_index("ix_memberships_remind", "memberships", ["group_id", "remind_at"])


def downgrade() -> None:
    op.drop_index("ix_memberships_remind", "memberships")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("remind_at")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("digest")
