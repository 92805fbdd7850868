#!/usr/bin/env python3
"""Speed baselines for `hush eval m4`: fit + forecast time of statsforecast's AutoETS and of
Prophet on the M4 hourly training series, with the same hold-out as Hush (last 48 points).

Usage: python3 scripts/m4_speed_baseline.py --train ../shared/datasets/m4_subset/train/Hourly-train.csv
       [--horizon 48] [--season 24] [--prophet-limit N] [--skip-prophet] [--skip-autoets]

Prints wall-clock seconds per method and, for AutoETS, sMAPE / MASE on the held-out points so
the accuracy of the baseline can be compared with Hush's table. Single process, single thread
(statsforecast n_jobs=1), so the numbers compare with `hush eval m4 --threads 1`.
"""
import argparse
import csv
import logging
import os
import resource
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import pandas as pd


def read_m4(path):
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        return [(r[0], np.array([float(v) for v in r[1:] if v.strip() != ""])) for r in rows]


def smape(y, f):
    d = np.abs(y) + np.abs(f)
    return np.mean(np.where(d > 0, 200 * np.abs(y - f) / np.where(d > 0, d, 1), 0))


def mase(train, y, f, m):
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return np.mean(np.abs(y - f)) / scale


def cpu_seconds():
    """CPU time of this process and its finished children (Prophet's Stan runs as a child)."""
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def run_autoets(series, h, m):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    frames = []
    for sid, y in series:
        frames.append(pd.DataFrame({"unique_id": sid, "ds": np.arange(len(y) - h), "y": y[:-h]}))
    df = pd.concat(frames, ignore_index=True)
    # Warm-up: numba compiles on first use; that one-off cost is not part of fit + forecast.
    StatsForecast(models=[AutoETS(season_length=m)], freq=1, n_jobs=1).forecast(
        df=df[df.unique_id == series[0][0]], h=h
    )
    sf = StatsForecast(models=[AutoETS(season_length=m)], freq=1, n_jobs=1)
    t0, c0 = time.perf_counter(), cpu_seconds()
    fc = sf.forecast(df=df, h=h, level=[95])
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    s, ms = [], []
    for sid, y in series:
        f = fc[fc.unique_id == sid]["AutoETS"].to_numpy()
        s.append(smape(y[-h:], f))
        ms.append(mase(y[:-h], y[-h:], f, m))
    return elapsed, cpu, float(np.mean(s)), float(np.mean(ms))


def run_prophet(series, h):
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    t0, c0 = time.perf_counter(), cpu_seconds()
    for _, y in series:
        ds = pd.date_range("2000-01-01", periods=len(y) - h, freq="h")
        m = Prophet(interval_width=0.95)
        m.fit(pd.DataFrame({"ds": ds, "y": y[:-h]}))
        m.predict(m.make_future_dataframe(periods=h, freq="h", include_history=False))
    return time.perf_counter() - t0, cpu_seconds() - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--horizon", type=int, default=48)
    ap.add_argument("--season", type=int, default=24)
    ap.add_argument("--prophet-limit", type=int, default=None,
                    help="time Prophet on the first N series only and scale to all")
    ap.add_argument("--skip-prophet", action="store_true")
    ap.add_argument("--skip-autoets", action="store_true")
    args = ap.parse_args()
    series = read_m4(args.train)
    n = len(series)
    if not args.skip_autoets:
        t, c, s, m = run_autoets(series, args.horizon, args.season)
        print(f"statsforecast AutoETS(season_length={args.season}): {n} series, fit+forecast "
              f"{t:.2f} s wall, {c:.2f} s CPU, sMAPE {s:.3f}, MASE {m:.3f}", flush=True)
    if not args.skip_prophet:
        subset = series[: args.prophet_limit] if args.prophet_limit else series
        t, c = run_prophet(subset, args.horizon)
        k = n / len(subset)
        note = "" if len(subset) == n else f" (measured on {len(subset)}, scaled x{k:.2f})"
        print(f"Prophet: {n} series, fit+forecast {t * k:.2f} s wall, {c * k:.2f} s CPU{note}")


if __name__ == "__main__":
    main()
