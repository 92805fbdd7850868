#!/usr/bin/env python3
"""Speed baseline for `hush detect`: scikit-learn's IsolationForest on rolling features.

The pipeline is the common tutorial one: per file, features = value, rolling mean and standard
deviation over 5 and 15 points; fit an IsolationForest and score every row. It reads the same
NAB files as `hush detect --input DATA_DIR` and writes the same number of scores, so the two
wall times can be compared back to back.

Usage: python3 scripts/nab_iforest_baseline.py ../shared/datasets/nab/data [--output DIR]
Needs: pip install scikit-learn pandas
"""

import argparse
import pathlib
import time

import pandas as pd
from sklearn.ensemble import IsolationForest


def features(values: pd.Series) -> pd.DataFrame:
    f = pd.DataFrame({"value": values})
    for w in (5, 15):
        r = values.rolling(w, min_periods=1)
        f[f"mean{w}"] = r.mean()
        f[f"std{w}"] = r.std().fillna(0.0)
    return f


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=pathlib.Path)
    ap.add_argument("--output", type=pathlib.Path)
    args = ap.parse_args()
    files = sorted(args.data.rglob("*.csv"))
    start = time.perf_counter()
    rows = 0
    for path in files:
        df = pd.read_csv(path)
        x = features(df["value"].astype(float))
        model = IsolationForest(n_estimators=100, random_state=0).fit(x)
        df["score"] = -model.score_samples(x)
        rows += len(df)
        if args.output:
            out = args.output / path.relative_to(args.data)
            out.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(out, index=False)
    elapsed = time.perf_counter() - start
    print(f"isolation_forest files={len(files)} rows={rows} seconds={elapsed:.3f}")


if __name__ == "__main__":
    main()
