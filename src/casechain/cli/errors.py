"""Map every error a user can cause to one line and an exit code (CLI.md)."""

from __future__ import annotations

import sys

import click


def _db_error(err) -> tuple[int, str]:
    from casechain.storage.uow import is_locked

    text = str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    low = text.lower()
    if is_locked(err):
        return 3, "the database is busy with another change; run the command again"
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return 2, "this database is not initialised: run casechain init --admin BADGE --name NAME"
    if "unable to open database" in low or "connection" in low or "could not" in low or "does not exist" in low:
        return 2, f"cannot open the database ({text}); check --db or CASECHAIN_DB"
    return 2, f"database error: {text}"


def run_guarded(fn):
    from casechain.domain.errors import CasechainError

    try:
        return fn()
    except CasechainError as err:
        for line in str(err).splitlines() or [type(err).__name__]:
            click.echo(f"error: {line}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Exit:
        raise
    except click.UsageError as err:  # one line, like every other error (CLI.md exit 2)
        hint = f" (see {err.ctx.command_path} --help)" if err.ctx else ""
        message = " ".join(err.format_message().split())
        click.echo(f"error: {message}{hint}", err=True)
        sys.exit(err.exit_code)
    except click.ClickException:
        raise
    except Exception as err:  # database driver errors arrive as many classes
        if type(err).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            code, msg = _db_error(err)
            click.echo(f"error: {msg}", err=True)
            sys.exit(code)
        raise
