"""Seed one item.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO items (name) VALUES ('seed')")


def downgrade() -> None:
    op.execute("DELETE FROM items WHERE name = 'seed'")
