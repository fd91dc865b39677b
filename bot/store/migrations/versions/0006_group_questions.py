"""group questions: a group's own questions, and how its rotation, quizzes and exams use them

`group_questions` holds the questions a group's leads add, import and retire, each in
the bank's schema with its own id (`g<group>-<n>`, numbered by `groups.own_seq`, never
given twice). `groups.own_questions` is `setup own=` (mix, only, off) and
`groups.own_in_exams` is `setup own_exam=` (off by default).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(
            sa.Column("own_questions", sa.String(length=4), nullable=False, server_default="mix")
        )
        batch.add_column(
            sa.Column("own_in_exams", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("own_seq", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "group_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_group_questions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_questions_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_questions")),
        sa.UniqueConstraint("question_id", name="uq_group_questions_question_id"),
        sa.UniqueConstraint("group_id", "number", name="uq_group_question_number"),
    )


def downgrade() -> None:
    op.drop_table("group_questions")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("own_seq")
        batch.drop_column("own_in_exams")
        batch.drop_column("own_questions")
