"""PDF packet of 150,000 confirmed signatures (ReportLab drawing pages directly), and a 70-organisation coalition
letter with logos: compile time and peak memory.

    .venv/bin/python -m bench.deliverables_pdf [--rows 150000] [--rounds 2] [--fresh]

Method: the database of bench/deliverables_common.py (one petition, N confirmed signatures, the demo's coalition
letter of 70 verified organisations with generated logos and its shareholders' letter of 17). Each measurement is
the whole job (packet_export_run / letter_compile_run: queries, rows' checksum, drawing, temporary file, fsync,
rename) in a fresh Python process; peak memory is that process's ru_maxrss. Goals: packet < 15 s and < 200 MB;
coalition letter < 2 s.
"""

import argparse
import statistics

from bench.deliverables_common import measure, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    setup_database(rows=args.rows, fresh=args.fresh)
    runs = {"pdf": [], "coalition-letter": [], "shareholders-letter": []}
    for _ in range(args.rounds):
        runs["pdf"].append(measure("pdf"))
        runs["coalition-letter"].append(measure("letter", "coalition-letter"))
        runs["shareholders-letter"].append(measure("letter", "shareholders-letter"))
    for name, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        peak = max(r["peak_mb"] for r in results)
        detail = results[-1]
        size = detail.get("bytes", 0)
        count = detail.get("rows") or detail.get("signatories")
        print(
            f"  {name:<20} {seconds:6.3f} s   peak {peak:6.1f} MB   {count:,} rows/signatories   {size:,} bytes"
            f"   (all: {', '.join(str(r['seconds']) for r in results)}; state {detail['state']})"
        )


if __name__ == "__main__":
    main()
