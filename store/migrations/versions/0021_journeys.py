"""journeys: the customer across contacts

Revision ID: 0021
Revises: 0020

* ``calls.customer_key``: the customer's pseudonym (``customer_ref``, else ``phone_ref``), filled
  for calls stored before this revision;
* ``calls.repeat_of``, ``days_since_previous``, ``fcr``, ``recovery_of``, ``recovered``: the call's place in its
  customer's journey (:mod:`callscope.qa.journeys`), filled by ``callscope journeys --recompute``
  or the next analysis of one of the customer's calls;
* ``calls.email_ref`` (the keyed hash of a text interaction's sender address) and
  ``calls.source_json`` (a text interaction's messages, sealed, until its analysis replaces them);
* ``customers``: one row per customer pseudonym: contacts, repeats, recoveries, churn risk with its
  evidence (call ids and signals, never words).
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('customer_key', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('repeat_of', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('days_since_previous', sa.Float(), nullable=True))
        batch.add_column(sa.Column('fcr', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('recovery_of', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('recovered', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('email_ref', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('source_json', sa.Text(), nullable=True))
        batch.create_index('ix_calls_customer_key', ['customer_key'])
        batch.create_index('ix_calls_email_ref', ['email_ref'])
    op.execute("UPDATE calls SET customer_key = COALESCE(customer_ref, phone_ref)")
    op.create_table('customers',
                    sa.Column('key', sa.String(length=64), nullable=False),
                    sa.Column('contacts', sa.Integer(), nullable=False),
                    sa.Column('first_contact_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('last_contact_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('repeat_contacts', sa.Integer(), nullable=False),
                    sa.Column('recoveries', sa.Integer(), nullable=False),
                    sa.Column('churn_risk', sa.Float(), nullable=False),
                    sa.Column('churn_level', sa.String(length=10), nullable=False),
                    sa.Column('churn_evidence', sa.Text(), nullable=False),
                    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_customers_churn_risk', 'customers', ['churn_risk'])
    op.create_index('ix_customers_last_contact_at', 'customers', ['last_contact_at'])


def downgrade() -> None:
    op.drop_index('ix_customers_last_contact_at', table_name='customers')
    op.drop_index('ix_customers_churn_risk', table_name='customers')
    op.drop_table('customers')
    with op.batch_alter_table('calls') as batch:
        batch.drop_index('ix_calls_email_ref')
        batch.drop_index('ix_calls_customer_key')
        for column in ('source_json', 'email_ref', 'recovered', 'recovery_of', 'fcr', 'days_since_previous', 'repeat_of', 'customer_key'):
            batch.drop_column(column)
