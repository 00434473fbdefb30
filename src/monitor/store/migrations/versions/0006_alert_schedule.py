"""alert schedule: when each episode's alerts must next be evaluated

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Issue 9: the timer re-evaluates only the episodes whose findings can have changed since their last
evaluation. One row per episode, rewritten in the transaction of every write that evaluates it, so it
is an operational table, not clinical data: rows are updated in place and no append-only trigger
covers it. No rows are created here: an open episode without a row is evaluated on the next tick of
any workstation, which writes its row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_schedule",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_alert_schedule_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_alert_schedule")),
    )


def downgrade() -> None:
    op.drop_table("alert_schedule")
