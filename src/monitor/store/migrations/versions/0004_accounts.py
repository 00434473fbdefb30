"""accounts: password hash, forced password change, lockout, deactivation time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Existing users keep their rows: the new columns are nullable or carry a server default, so an account
from before sign-in existed has no password (it cannot sign in until an administrator sets one).

SQLite: the columns are added with ALTER TABLE ADD COLUMN. A batch "recreate" of users would drop and
rebuild a table that every clinical row references, which foreign_keys=ON refuses once rows exist. The
defaults are therefore plain strings ("0"): Alembic recreates the table for a SQL-expression default,
and "0" reads as false/0 on both SQLite and PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("password_hash", "must_change_password", "failed_attempts", "locked_until", "deactivated_at")


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35+) for the same reason as above: no table rebuild.
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
