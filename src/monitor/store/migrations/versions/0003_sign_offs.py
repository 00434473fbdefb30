"""physician sign-offs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Sign-offs are append-only like the clinical records.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_offs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_sign_offs_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(["signed_by_id"], ["users.id"], name=op.f("fk_sign_offs_signed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_offs")),
    )
    with op.batch_alter_table("sign_offs", schema=None) as batch_op:
        batch_op.create_index("ix_sign_offs_episode", ["episode_id", "period_end"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER sign_offs_no_{verb.lower()} BEFORE {verb} ON sign_offs "
                "BEGIN SELECT RAISE(ABORT, 'append-only: sign_offs rows are never changed'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER sign_offs_append_only BEFORE UPDATE OR DELETE ON sign_offs "
            "FOR EACH ROW EXECUTE FUNCTION monitor_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("sign_offs", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_offs_episode")

    op.drop_table("sign_offs")
