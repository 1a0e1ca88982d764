"""The shared fixtures give each test what ``World(url).setup()`` would build.

``world`` and ``sqlite_world`` copy a World built once per test process (the
SQLite file), or put the PostgreSQL database back row for row; these tests
check that shortcut against building the World for real.
"""

from __future__ import annotations

from conftest import World, pg_rows, scratch_pg_database, sqlite_dump

from casechain.services import admin, cases


def test_a_sqlite_world_is_what_setup_builds(sqlite_world, tmp_path):
    built = tmp_path / "built.db"
    World(f"sqlite:///{built}").setup().dispose()
    sqlite_world.engine.dispose()
    assert sqlite_dump(tmp_path / "casechain.db") == sqlite_dump(built)


def _sequences(engine) -> list:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")).all()


def test_a_postgres_world_is_put_back_as_setup_built_it(request, tmp_path):
    from conftest import fresh_world

    w = fresh_world("postgres", request, tmp_path)
    try:  # leave traces in every kind of row: a case, its events, an officer
        w.two_cases()
        w.run(admin.add_officer, "ADM-1", "SP-2", "Officer SP-2", "supervisor", "Karachi South", None)
    finally:
        w.dispose()
    again = fresh_world("postgres", request, tmp_path)
    try:
        with scratch_pg_database("casechain_built") as url:
            built = World(url).setup()
            try:
                assert pg_rows(again.engine) == pg_rows(built.engine)
                assert _sequences(again.engine) == _sequences(built.engine)
                # ids handed out next are the same too
                assert again.register(1) == built.register(1)
                assert again.run(cases.show, "CLN/1/2024") == built.run(cases.show, "CLN/1/2024")
            finally:
                built.dispose()
    finally:
        again.dispose()
