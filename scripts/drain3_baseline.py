#!/usr/bin/env python3
"""Throughput of the Python `drain3` package (pip install drain3) on a log file, one line
per message, for comparison with the hush-logs miner on the same file.

    scripts/drain3_baseline.py FILE [LIMIT] [--masking]

Default configuration (Drain: depth 4, similarity 0.4, no masking). With `--masking`, regex
masks for IPs, hex, numbers and id sequences like those of drain3's example configuration are
added, which is closer to the work hush-logs does per line.
"""
import logging
import sys
import time

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

logging.disable(logging.WARNING)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0]
    limit = int(args[1]) if len(args) > 1 else None
    config = TemplateMinerConfig()
    masking = "--masking" in sys.argv
    if masking:
        edge_l, edge_r = r"((?<=[^A-Za-z0-9])|^)", r"((?=[^A-Za-z0-9])|$)"
        config.masking_instructions = [
            MaskingInstruction(edge_l + r"(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))" + edge_r, "ID"),
            MaskingInstruction(edge_l + r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})" + edge_r, "IP"),
            MaskingInstruction(edge_l + r"([0-9a-f]{6,} ?){3,}" + edge_r, "SEQ"),
            MaskingInstruction(edge_l + r"(0x[a-f0-9A-F]+)" + edge_r, "HEX"),
            MaskingInstruction(edge_l + r"([\-\+]?\d+)" + edge_r, "NUM"),
        ]
    miner = TemplateMiner(config=config)
    n = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            miner.add_log_message(line.rstrip("\n"))
            n += 1
            if limit and n >= limit:
                break
    elapsed = time.perf_counter() - start
    print(f"drain3{' (masking)' if masking else ''}: {n} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s, "
          f"{len(miner.drain.clusters)} clusters")


if __name__ == "__main__":
    main()
