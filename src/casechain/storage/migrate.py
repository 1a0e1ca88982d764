"""Schema migrations (alembic), shipped inside the package.

``casechain init`` calls :func:`upgrade`: an empty database is built revision
by revision; a database made before casechain had migrations (by
``create_all``) is first stamped at the first revision, which describes that
schema (0001, the baseline); then every newer revision is applied.

Developers make a revision after changing ``storage/tables.py``::

    python -m casechain.storage.migrate revision "add the diary table"

which compares the models with a scratch database built from the existing
revisions and writes the difference into ``migrations/versions/``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSIONS = MIGRATIONS / "versions"


def config(connection: Connection | None = None, versions: Path | None = None, metadata=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(versions or VERSIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    if metadata is not None:
        cfg.attributes["target_metadata"] = metadata
    return cfg


def revisions(versions: Path | None = None) -> list[str]:
    """Revision ids, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config(versions=versions))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def has_revisions(versions: Path | None = None) -> bool:
    folder = versions or VERSIONS
    return folder.is_dir() and any(p.suffix == ".py" for p in folder.iterdir())


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head", versions: Path | None = None) -> None:
    """Bring the database to ``target`` (stamping a pre-migration database first)."""
    from alembic import command

    with engine.begin() as conn:
        names = set(inspect(conn).get_table_names())
        cfg = config(conn, versions)
        if "alembic_version" not in names and "case" in names:
            command.stamp(cfg, revisions(versions)[0])  # built by create_all: the first revision's schema
        command.upgrade(cfg, target)


def revision(message: str, versions: Path | None = None, metadata=None, rev_id: str | None = None) -> Path:
    """Write a new revision: what the models have that the revisions do not yet build."""
    from alembic import command

    folder = versions or VERSIONS
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            if has_revisions(folder):
                upgrade(engine, versions=folder)
            with engine.begin() as conn:
                script = command.revision(config(conn, folder, metadata), message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    return Path(script.path)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "revision":
        print(revision(argv[1]))
        return 0
    print('usage: python -m casechain.storage.migrate revision "what changed"', file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
