"""at most one active rule set

Revision ID: 0014
Revises: 0013

* A partial unique index on ``rule_sets.active`` where it is true: two workers finishing the
  first analyses of a fresh database at once could each install and activate the starter set,
  leaving two active versions, after which every analysis failed ("Multiple rows were found").
  A database already in that state keeps the newest of its active versions active.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE rule_sets SET active = false WHERE active AND version < "
                       "(SELECT max(version) FROM rule_sets WHERE active)"))
    op.create_index('uq_rule_sets_one_active', 'rule_sets', ['active'], unique=True,
                    sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))


def downgrade() -> None:
    op.drop_index('uq_rule_sets_one_active', table_name='rule_sets')
