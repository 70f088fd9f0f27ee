"""Generate the synthetic weekly sales of the retail recipe into ``data/`` (no downloads).

    python make_data.py [--stores 20] [--weeks 90] [--seed 7]

Each row is one store's week: the store's size and type, the week of the year, a holiday flag,
temperature, fuel price, CPI, unemployment and the week's sales; ``weeklySalesAhead`` is the
next week's sales, the target. Weeks up to 80% of the span go to ``data/train.csv``, the rest to
``data/score.csv`` (the data to score, without the target).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def generate(stores: int = 20, weeks: int = 90, seed: int = 7) -> pd.DataFrame:
    """One row per store and week, with next week's sales as ``weeklySalesAhead``."""
    rng = np.random.default_rng(seed)
    rows = []
    for store in range(1, stores + 1):
        size = int(rng.integers(40_000, 220_000))
        store_type = int(rng.integers(0, 3))
        base = size * (0.09 + 0.03 * store_type) * rng.uniform(0.8, 1.2)
        temperature = (
            15 + 12 * np.sin(np.arange(weeks + 1) * 2 * np.pi / 52) + rng.normal(0, 3, weeks + 1)
        )
        fuel = 3.0 + np.cumsum(rng.normal(0, 0.03, weeks + 1))
        cpi = 210 + np.cumsum(rng.normal(0.05, 0.1, weeks + 1))
        unemployment = 7 + np.cumsum(rng.normal(0, 0.05, weeks + 1))
        week_of_year = np.arange(weeks + 1) % 52 + 1
        holiday = np.isin(week_of_year, [6, 36, 47, 52]).astype(int)
        season = 1 + 0.25 * np.exp(-((week_of_year - 50) ** 2) / 8) + 0.1 * holiday
        sales = base * season * (1 - 0.01 * (unemployment - 7)) * rng.normal(1, 0.03, weeks + 1)
        for w in range(weeks):
            rows.append(
                {
                    "store": store,
                    "week": w + 1,
                    "storeType": store_type,
                    "storeSize": size,
                    "weekOfYear": int(week_of_year[w]),
                    "isHoliday": int(holiday[w]),
                    "temperature": round(float(temperature[w]), 2),
                    "fuelPrice": round(float(fuel[w]), 3),
                    "cpi": round(float(cpi[w]), 3),
                    "unemployment": round(float(unemployment[w]), 3),
                    "weeklySales": round(float(sales[w]), 2),
                    "weeklySalesAhead": round(float(sales[w + 1]), 2),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    """Write ``data/train.csv`` and ``data/score.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = generate(args.stores, args.weeks, args.seed)
    cutoff = int(args.weeks * 0.8)
    out = HERE / "data"
    out.mkdir(exist_ok=True)
    data[data.week <= cutoff].to_csv(out / "train.csv", index=False)
    data[data.week > cutoff].drop(columns=["weeklySalesAhead"]).to_csv(
        out / "score.csv", index=False
    )
    print(f"wrote {out / 'train.csv'} and {out / 'score.csv'} ({len(data)} rows in all)")


if __name__ == "__main__":
    main()
