"""workstation settings (the idle lock's minutes): append-only, newest row per key wins

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

Like the protocol settings, but not clinical: an administrator sets them. Kept apart from
protocol_settings so that the clinical protocol stays exactly the list domain.md gives.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workstation_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_workstation_settings_set_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workstation_settings")),
    )
    with op.batch_alter_table("workstation_settings", schema=None) as batch_op:
        batch_op.create_index("ix_workstation_settings_key", ["key", "id"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER workstation_settings_no_{verb.lower()} "
                f"BEFORE {verb} ON workstation_settings "
                "BEGIN SELECT RAISE(ABORT, 'append-only: workstation_settings rows are never changed'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER workstation_settings_append_only BEFORE UPDATE OR DELETE ON workstation_settings "
            "FOR EACH ROW EXECUTE FUNCTION monitor_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("workstation_settings", schema=None) as batch_op:
        batch_op.drop_index("ix_workstation_settings_key")
    op.drop_table("workstation_settings")
