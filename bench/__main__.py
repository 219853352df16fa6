"""`python -m bench` (or `make bench`): measure the portal against DESIGN §7's budgets.

Prints a Markdown table and writes it to bench/results.md; exits 1 when a budget is missed,
2 when the bench itself could not finish. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import traceback
from pathlib import Path

from bench.context import DEFAULT_REDIS_URL, REDIS_MARKER, Bench
from bench.engines import available
from bench.plan import QUICK, Plan
from bench.procs import Processes
from bench.run import clean_workdir, run

BENCH_DIR = Path(__file__).resolve().parent


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and short runs, to try the bench out (writes bench/tmp/results-quick.md)",
    )
    parser.add_argument(
        "--engines",
        default="sqlite,postgresql",
        help="databases to run the portal on, in order (default: sqlite,postgresql)",
    )
    parser.add_argument("--output", type=Path, help="where to write the Markdown results")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    plan = dataclasses.replace(plan, engines=tuple(args.engines.split(",")))
    output = args.output or (
        BENCH_DIR / "tmp" / "results-quick.md" if args.quick else BENCH_DIR / "results.md"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)

    # Explicitly for SIGINT too: a shell starting the bench in the background ignores it.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    workdir = clean_workdir(BENCH_DIR / "tmp")
    processes = Processes(workdir)
    bench = Bench(plan, workdir, processes, redis_url)
    try:
        report = run(bench)
    except KeyboardInterrupt:
        print("\nInterrupted; stopping everything the bench started.", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(f"\nThe bench could not finish; logs are in {workdir}.", file=sys.stderr)
        partial = bench.report.markdown()
        (workdir / "results-partial.md").write_text(partial, encoding="utf-8")
        print(partial)
        return 2
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes.stop_all()
        if bench.redis is not None and bench.redis.get(REDIS_MARKER) == str(os.getpid()).encode():
            bench.redis.flushdb()  # the bench's own database (see Bench.connect_redis)
        for engine in available(plan.engines, workdir):
            if not engine.problem:
                for database in ("portal", "template", "batches", *_sync_databases(plan)):
                    try:
                        engine.drop(database)
                    except Exception as problem:  # a database that is not the bench's: kept
                        print(f"Not dropped: {problem}", file=sys.stderr)

    markdown = report.markdown()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"Written to {output}; logs in {workdir}.", file=sys.stderr)
    return 1 if report.missed else 0


def _sync_databases(plan: Plan) -> list[str]:
    return [f"sync-{n}" for n in {*plan.strict_sync_sizes, *plan.generous_sync_sizes}]


if __name__ == "__main__":
    sys.exit(main())
