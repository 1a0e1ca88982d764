"""Alembic environment of casechain: run by casechain.storage.migrate, never by
the ``alembic`` command with an ini file. The caller passes the connection (and,
in tests, the metadata to compare against) in ``config.attributes``."""

from alembic import context

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes.get("target_metadata")
if metadata is None:
    from sqlmodel import SQLModel

    from casechain.storage import tables  # noqa: F401  (registers the tables)

    metadata = SQLModel.metadata

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
