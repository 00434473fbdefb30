"""initial schema: users, patients, episodes, assessments, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Clinical tables are append-only: triggers refuse UPDATE and DELETE on them, so a correction can only
be a new version (design.md, Data rules). Migrations never import the models: they are frozen history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_workstation_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=False),
        sa.Column("after_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_patients_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
    )
    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bed", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("admitted_by_id", sa.Integer(), nullable=False),
        sa.Column("tz_name", sa.String(length=64), nullable=False),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discharged_by_id", sa.Integer(), nullable=True),
        sa.Column("discharge_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["admitted_by_id"], ["users.id"], name=op.f("fk_episodes_admitted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["discharged_by_id"], ["users.id"], name=op.f("fk_episodes_discharged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_episodes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
    )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.create_index("ix_episodes_open", ["discharged_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_episodes_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("scale", sa.String(length=16), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("tz_name", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("pulse_bpm", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("late_reason", sa.Text(), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("amend_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_assessments_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_assessments_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_assessments_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["assessments.id"], name=op.f("fk_assessments_replaces_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["root_id"], ["assessments.id"], name=op.f("fk_assessments_root_id_assessments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("replaces_id", name="uq_assessments_replaces_id"),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_episode_taken", ["episode_id", "taken_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessments_root_id"), ["root_id"], unique=False)

    op.create_table(
        "substance_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("substance", sa.String(length=32), nullable=False),
        sa.Column("last_use_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amount", sa.String(length=100), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_substance_uses_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substance_uses")),
    )
    with op.batch_alter_table("substance_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_substance_uses_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "assessment_items",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_assessment_items_assessment_id_assessments")
        ),
        sa.PrimaryKeyConstraint("assessment_id", "item_key", name=op.f("pk_assessment_items")),
    )
    op.create_table(
        "assessment_voids",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_assessment_voids_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["users.id"], name=op.f("fk_assessment_voids_voided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessment_voids")),
    )

    _protect_append_only()


APPEND_ONLY = ("assessments", "assessment_items", "assessment_voids", "audit_log")


def _protect_append_only() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'append-only: {table} rows are never changed'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION monitor_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'append-only: % rows are never changed', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION monitor_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS monitor_append_only()")
    op.drop_table("assessment_voids")
    op.drop_table("assessment_items")
    with op.batch_alter_table("substance_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substance_uses_episode_id"))

    op.drop_table("substance_uses")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_root_id"))
        batch_op.drop_index("ix_assessments_episode_taken")

    op.drop_table("assessments")
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episodes_patient_id"))
        batch_op.drop_index("ix_episodes_open")

    op.drop_table("episodes")
    op.drop_table("patients")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_patient_id"))

    op.drop_table("audit_log")
    op.drop_table("users")
