"""delivery pace: measure the accepted rate between 429s

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 02:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_pace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("since", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("taken", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("measured_to", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_pace", schema=None) as batch_op:
        batch_op.drop_column("measured_to")
        batch_op.drop_column("taken")
        batch_op.drop_column("since")
