"""next due: each group's next due instant, indexed, and the clock's other look-ups

The clock's tick reads only the groups whose next post has come (`groups.next_due_at`,
kept by bot/due_times.py); existing groups start without one and the first tick works it
out. Answers by time (the "N answered" refresh) and passes by date (recertification
reminders) get indexes so a tick's cost follows what happened, not the table sizes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_groups_next_due", "groups", ["paused", "next_due_at"])
    op.create_index("ix_answers_answered_at", "answers", ["answered_at"])
    op.create_index("ix_passes_passed_on", "passes", ["passed_on"])


def downgrade() -> None:
    op.drop_index("ix_passes_passed_on", "passes")
    op.drop_index("ix_answers_answered_at", "answers")
    op.drop_index("ix_groups_next_due", "groups")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("next_due_at")
