"""Create table items.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Integer primary key without an explicit default becomes SERIAL in PostgreSQL.
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    # Real migrations take a moment (a backfill, an index). This one takes a
    # second on purpose, inside its transaction: replicas that migrate
    # unserialised then collide as they do in production, which is what
    # tests/migration_lock_test.ts shows the advisory lock prevents.
    op.execute("SELECT pg_sleep(1)")


def downgrade() -> None:
    op.drop_table("items")
