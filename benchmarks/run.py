"""casechain benchmarks: every figure side by side with a baseline run in the
same script on the same machine, so the ratio means something on a noisy box.

    python benchmarks/run.py [--quick] [--only NAME ...] [--json FILE]

Prints a table (figure, casechain, baseline, ratio, goal, pass) and writes it
as JSON (default benchmarks/results.json). Not a test: goals are checked here,
not in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_lib import Row, print_table  # noqa: E402

SUITES = ["startup", "moves", "memory", "reports", "import_", "demo", "spiff"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats (minutes, not tens of minutes)")
    ap.add_argument("--only", nargs="*", choices=SUITES, help="run only these")
    ap.add_argument("--json", default=str(HERE / "results.json"))
    ap.add_argument("--pg", default=os.environ.get("CASECHAIN_TEST_PG_URL"), help="PostgreSQL URL for the PostgreSQL figures")
    args = ap.parse_args(argv)
    rows: list[Row] = []
    for name in args.only or SUITES:
        module = __import__(f"bench_{name.rstrip('_')}")
        started = time.perf_counter()
        print(f"# {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(module.run(quick=args.quick, pg_url=args.pg))
        except ModuleNotFoundError as err:
            rows.append(Row(f"{name}: skipped", None, None, None, f"missing {err.name}"))
        print(f"# {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print_table(rows)
    Path(args.json).write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    print(f"wrote {args.json}", file=sys.stderr)
    return 0 if all(r.passed is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
