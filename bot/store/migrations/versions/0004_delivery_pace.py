"""delivery pace: a workspace's learned posting rate, shared by delivery workers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_pace",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp", sa.Float(), nullable=False),
        sa.Column("held_until", sa.Float(), nullable=False),
        sa.Column("learned", sa.Boolean(), nullable=False),
        sa.Column("since", sa.Float(), nullable=False, server_default="0"),
        sa.Column("taken", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("measured_to", sa.Float(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_delivery_pace_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_delivery_pace")),
    )


def downgrade() -> None:
    op.drop_table("delivery_pace")
