#!/usr/bin/env python3
"""Builds a large log file from the Loghub-2k samples, for throughput measurements.

The `Content` column of every system's `<System>_2k.log_structured.csv` is repeated, the
systems interleaved line by line, until the requested number of lines is written. Numbers in
each repetition are perturbed so the file is not 2,000 lines replayed verbatim.

    scripts/make_loghub_stream.py --data ../shared/datasets/loghub_2k --lines 1000000 --out /tmp/x.log

The output is a scratch file: never commit it.
"""
import argparse
import csv
import pathlib
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/datasets/loghub_2k")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    data = pathlib.Path(args.data)
    systems = []
    for d in sorted(p for p in data.iterdir() if p.is_dir()):
        f = d / f"{d.name}_2k.log_structured.csv"
        if f.is_file():
            with open(f, newline="", encoding="utf-8", errors="replace") as fh:
                systems.append([r["Content"] for r in csv.DictReader(fh)])
    digits = re.compile(r"\d+")
    written = 0
    rep = 0
    with open(args.out, "w", encoding="utf-8") as out:
        while written < args.lines:
            for i in range(2000):
                for lines in systems:
                    if written >= args.lines:
                        break
                    line = lines[i % len(lines)]
                    if rep:
                        line = digits.sub(lambda m: str(int(m.group()) + rep), line)
                    out.write(line.replace("\n", " ") + "\n")
                    written += 1
            rep += 1
    print(f"wrote {written} lines to {args.out}")


if __name__ == "__main__":
    main()
