#!/usr/bin/env python3
"""Throughput of the Python `drain3` package (pip install drain3) on a log file, one line
per message, default configuration (Drain: depth 4, similarity 0.4), for comparison with
`hush logs parse` / the hush-logs miner on the same file.

    scripts/drain3_baseline.py /tmp/stream.log
"""
import logging
import sys
import time

from drain3 import TemplateMiner

logging.disable(logging.WARNING)


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    miner = TemplateMiner()
    n = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            miner.add_log_message(line.rstrip("\n"))
            n += 1
            if limit and n >= limit:
                break
    elapsed = time.perf_counter() - start
    print(f"drain3: {n} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s, "
          f"{len(miner.drain.clusters)} clusters")


if __name__ == "__main__":
    main()
