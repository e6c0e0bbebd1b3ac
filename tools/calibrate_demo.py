"""Calibrate the synthetic demo market from the real reference prices (run by hand).

Reads ``TICKER.csv`` files (``Date,Close``, adjusted) from ``../shared/data/prices``
(or ``--shared``), and writes the two small figure tables the demo generator
ships with (never prices):

- ``backtests/data/demo_calibration.csv``: ``ticker, first_date, drift, vol, dof``
  per ticker, from daily log returns inside the window (default 2010-01-01 ..
  2025-12-31): ``drift`` = mean x 252 (expected annual log return), ``vol`` =
  standard deviation x sqrt(252), ``dof`` = Student-t degrees of freedom matching
  the sample excess kurtosis ``k`` (``4 + 6 / k``, 30 when ``k <= 0``, clipped
  to [3, 30]), ``first_date`` = the fund's first real date.
- ``backtests/data/demo_correlations.csv``: the ticker x ticker correlation of
  daily log returns (pairwise over common dates), repaired to the nearest
  positive-definite correlation matrix (eigenvalues floored) so it can be
  Cholesky-factorised.

Usage::

    python tools/calibrate_demo.py                       # ../shared/data -> backtests/data
    python tools/calibrate_demo.py --shared /path/to/shared/data --out-dir /tmp/cal
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parents[1]
TRADING_DAYS = 252
DOF_BOUNDS = (3.0, 30.0)
# Smallest eigenvalue kept when repairing the correlation matrix: large enough that
# rounding the committed figures to 4 decimals cannot make it indefinite.
EIGEN_FLOOR = 0.01
CALIBRATION_FILE = "demo_calibration.csv"
CORRELATION_FILE = "demo_correlations.csv"


def read_closes(prices_dir: Path) -> dict[str, pd.Series]:
    """Every ``TICKER.csv`` in ``prices_dir`` as a ``Close`` series on its ``Date`` index."""
    files = sorted(prices_dir.glob("*.csv"))
    if not files:
        raise SystemExit(
            f"no TICKER.csv files in {prices_dir}; pass --shared PATH to the folder holding prices/"
        )
    return {path.stem.upper(): _read_close(path) for path in files}


def _read_close(path: Path) -> pd.Series:
    return pd.read_csv(path, index_col="Date", parse_dates=["Date"])["Close"].astype("float64")


def dof_from_kurtosis(excess_kurtosis: float) -> float:
    """Student-t dof whose excess kurtosis ``6 / (dof - 4)`` matches, clipped to [3, 30]."""
    if not excess_kurtosis > 0:
        return DOF_BOUNDS[1]
    return float(np.clip(4.0 + 6.0 / excess_kurtosis, *DOF_BOUNDS))


def nearest_correlation(matrix: np.ndarray, floor: float = EIGEN_FLOOR) -> np.ndarray:
    """Floor the eigenvalues of a symmetric matrix at ``floor``; rescale to a unit diagonal."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    repaired = (vectors * np.maximum(values, floor)) @ vectors.T
    scale = 1.0 / np.sqrt(np.diag(repaired))
    out = repaired * np.outer(scale, scale)
    np.fill_diagonal(out, 1.0)
    return out


def calibrate(
    closes: Mapping[str, pd.Series], start: str = "2010-01-01", end: str = "2025-12-31"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-ticker figures table and the repaired correlation matrix, both sorted by ticker."""
    tickers = sorted(closes)
    returns = pd.DataFrame({t: np.log(closes[t]).diff().loc[start:end] for t in tickers})
    returns = returns.sort_index()
    table = pd.DataFrame(
        {
            "ticker": tickers,
            "first_date": [closes[t].index.min().strftime("%Y-%m-%d") for t in tickers],
            "drift": [returns[t].mean() * TRADING_DAYS for t in tickers],
            "vol": [returns[t].std() * np.sqrt(TRADING_DAYS) for t in tickers],
            "dof": [dof_from_kurtosis(returns[t].kurt()) for t in tickers],
        }
    )
    corr = nearest_correlation(returns.corr().to_numpy())
    index = pd.Index(tickers, name="ticker")
    return table, pd.DataFrame(corr, index=index, columns=tickers)


def write_tables(table: pd.DataFrame, corr: pd.DataFrame, out_dir: Path) -> None:
    """Write both tables with fixed rounding: a re-run on the same data gives the same bytes."""
    atomic_write_text(
        out_dir / CALIBRATION_FILE,
        table.to_csv(index=False, float_format="%.6f", lineterminator="\n"),
    )
    atomic_write_text(
        out_dir / CORRELATION_FILE, corr.to_csv(float_format="%.4f", lineterminator="\n")
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, calibrate, write the tables and print a one-line summary to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "data",
        help="folder holding prices/ (default: ../shared/data beside the repository)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=REPO_ROOT / "backtests" / "data",
        help="where to write the tables (default: backtests/data)",
    )
    parser.add_argument("--start", default="2010-01-01", help="window start (default 2010-01-01)")
    parser.add_argument("--end", default="2025-12-31", help="window end (default 2025-12-31)")
    args = parser.parse_args(argv)
    table, corr = calibrate(read_closes(args.shared / "prices"), args.start, args.end)
    write_tables(table, corr, args.out_dir)
    print(
        f"calibrated {len(table)} tickers on {args.start}..{args.end} -> {args.out_dir}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
