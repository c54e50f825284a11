"""CSV packet of 150,000 confirmed signatures: wall time and peak memory of the export job, against PostgreSQL's own
COPY of the same rows in the same run.

    .venv/bin/python -m bench.deliverables_csv [--rows 150000] [--rounds 3] [--fresh]

Method: a database of its own (vigil_bench_deliverables) with one petition of N confirmed signatures (loaded with
COPY). Each measurement runs in a fresh Python process; its peak memory is that process's ru_maxrss. Measured, in
alternation, `rounds` times each:
  copy_plain  COPY (SELECT the same columns, same rows, same order, no cleaning) TO STDOUT into a file
  copy        COPY of the export's own query (invisible characters removed, formulas neutralised) into a file
  csv         the whole export job (packet_export_run): count, COPY streamed through a digest into a temporary
              file, fsync, rename, and the job's rows
Figures are medians; the goal is csv within 3 × copy_plain and under 150 MB.
"""

import argparse
import statistics

from bench.deliverables_common import measure, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the bench database first")
    args = parser.parse_args()
    setup_database(rows=args.rows, fresh=args.fresh)
    results: dict[str, list[dict]] = {"copy_plain": [], "copy": [], "csv": []}
    for _ in range(args.rounds):
        for kind in results:
            results[kind].append(measure(kind))
    print(f"CSV packet of {args.rows:,} confirmed signatures, {args.rounds} rounds each, medians:")
    for kind, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        print(
            f"  {kind:<11} {seconds:6.3f} s   peak {peak:6.1f} MB   {runs[-1].get('bytes', 0):,} bytes"
            f"   (all: {', '.join(str(r['seconds']) for r in runs)})"
        )
    floor = statistics.median(r["seconds"] for r in results["copy_plain"])
    export = statistics.median(r["seconds"] for r in results["csv"])
    print(
        f"  export / plain COPY = {export / floor:.2f} (goal ≤ 3), peak {max(r['peak_mb'] for r in results['csv'])} MB"
        " (goal < 150)"
    )


if __name__ == "__main__":
    main()
