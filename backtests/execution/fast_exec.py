"""Fast executor: the reference execution model, compiled with numba, for many configurations.

Targets come in linear form ``W_c[t] = base[t] + exposure_c[t] * shift[t]``. For each
configuration the path is the one ``run_backtrader`` produces, bit for bit (see ``rules``):
at close ``t`` mark to market, decide with ``trades_due`` (first day, target change,
schedule, drift), size with ``size_trades`` (sell first, buys trimmed to the cash), fill
sells at ``p(1-slip)`` and buys at ``p(1+slip)`` with commission on the fill notional,
fractional shares, booked in backtrader's own arithmetic (``book_sell``, ``book_buy``,
``average_price``: the state carries each position's average entry price), equity = cash +
sum q p after trading, summed in ticker order.

One compiled kernel (``_block``) runs every entry point:

- ``simulate``: C exposure paths given as a C x T matrix; reduced to metrics.
- ``simulate_responses``: the sweep path. The exposure is ``hedge_fraction * level`` with
  the level from ``backtests.portfolio.response.hedge_step`` (the one definition of the
  state machine), stepped inside the kernel over the full calendar (warm-up included; the
  days before the first signal, when every level is 0, are skipped: ``resting_until``), so
  no levels or exposure matrix is built. Configurations with the same level parameters
  share one level path, so within a block the machine is stepped once per distinct
  parameter set, and a configuration's target is revisited only on days its level moved.
  Returns daily returns (C x T).
- ``run_fast``: one configuration with its holdings and fills traced (backtrader's twin).

Layout: configurations are cut into blocks run in parallel (``numba.prange``); inside a block
the state is ``N x M`` with the M configurations in the inner, contiguous dimension, so
marking to market (one multiply-add per ticker and configuration) and the drift test run
across configurations in SIMD. Configurations with the same level parameters are put side
by side (they trade on the same days). Targets are recomputed only for configurations whose
exposure changed; sizing (``size_trades``) and fills run, again across the block, only on
days when some configuration trades (only for those). Tickers that no configuration of a
block holds or targets (a hedge basket between hedges) are skipped, which changes no bit
(``rules``). ``set_threads`` caps the threads.
No fastmath: every configuration's arithmetic is plain IEEE, the same whatever its block,
block size, chunk, thread count or ``--jobs``. The block kernel uses numpy's error model (a
zero divisor gives inf/NaN instead of raising) so that its returns loop has no branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.execution.result import (
    TRADE_COLUMNS,
    ExecutionResult,
    annual_turnover,
    build_result,
)
from backtests.execution.rules import (
    CostModel,
    RebalanceRule,
    aligned_targets,
    average_price,
    book_buy,
    listed_prices,
    mark_to_market,
    row_changed,
    scheduled_days,
    size_trades,
    trades_due,
)
from backtests.jit import njit, numba
from backtests.metrics import N_STATS, calendar_years, metrics_from_stats, row_stats
from backtests.portfolio.response import check_signal, hedge_step, resting_until

if TYPE_CHECKING:  # pandas loads where a function needs it: a sweep worker never does
    import pandas as pd

#: Configurations per ``simulate`` chunk (its equity buffer is CHUNK x T).
CHUNK = 1024
#: Largest block of configurations one thread advances together.
BLOCK = 256
#: Days of results a block collects before writing them to each configuration's row.
_TILE = 32


@dataclass(frozen=True)
class FastResult:
    """Per-configuration outcomes (length C); ``equity`` (C x T) only with ``keep_equity``."""

    metrics: dict[str, np.ndarray]
    final_equity: np.ndarray
    turnover: np.ndarray
    equity: np.ndarray | None = None


def set_threads(n: int) -> int:
    """Cap the numba threads this process's kernels use at ``n`` (at least 1); returns the cap.

    Call it in each worker process before simulating, e.g. ``n = cores // processes``, so that
    processes x threads never exceed the cores. Numba applies the cap to parallel regions
    launched from the calling thread.
    """
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return numba.get_num_threads()


@njit(cache=True)
def _trade(q, avg, p, cash, value, target, commission, slippage, due, delta, work, traded, rows):
    """Size (``size_trades``) and fill every column of a block at close ``p``: sells first, then buys,
    each at the slipped close with commission on the fill notional, booked in backtrader's own
    arithmetic so that both executors give the same bits (see ``rules.book_sell``/``book_buy``).
    ``q``, ``avg`` (N x M: shares, backtrader's average entry price), ``cash``, ``traded`` (M,) are
    updated in place; ``value`` (M,), the pre-trade equity, becomes the post-trade equity;
    ``delta`` (N x M) and ``work`` (3 x M) are scratch; only the tickers ``rows`` are visited
    (``rules``: the others hold nothing and have target 0)."""
    size_trades(q, avg, p, cash, value, target, commission, slippage, due, delta, work, rows)
    m = q.shape[1]
    for k in range(m):  # the cash after the sells, as ``size_trades`` booked them (``book_sell``)
        cash[k] = work[0, k]
    for i in rows:  # sells first; selects, not branches: SIMD across k
        fill = p[i] * (1.0 - slippage)
        for k in range(m):
            d = delta[i, k]
            sells = d < 0.0
            traded[k] += abs(d) * fill if sells else 0.0
            held = q[i, k] + d
            avg[i, k] = 0.0 if sells and held == 0.0 else avg[i, k]
            q[i, k] = held if sells else q[i, k]
    for i in rows:
        fill = p[i] * (1.0 + slippage)
        for k in range(m):  # two loops: one writing four arrays does not vectorise
            d = delta[i, k]
            buys = d > 0.0
            cash[k] = book_buy(cash[k], d, fill, commission) if buys else cash[k]
            traded[k] += d * fill if buys else 0.0
        for k in range(m):
            d = delta[i, k]
            buys = d > 0.0
            held = q[i, k] + d
            avg[i, k] = average_price(avg[i, k], q[i, k], d, fill, held) if buys else avg[i, k]
            q[i, k] = held if buys else q[i, k]
    mark_to_market(q, p, cash, value, rows)


# numpy error model: no zero-divisor branch, so the returns loop vectorises.
@njit(cache=True, error_model="numpy")
def _block(
    rows,
    prices,
    base,
    shift,
    static,
    scheduled,
    day_of,
    signal,
    release,
    fraction,
    hold,
    up,
    down,
    exits,
    exposure,
    commission,
    slippage,
    drift,
    cash0,
    as_returns,
    out,
    traded,
    holdings,
    cash_path,
    sizes,
):
    """The configurations ``rows`` (lane k is configuration ``rows[k]``): fill their rows of ``out``
    (equity, or returns when ``as_returns``) and of ``traded``.

    Exposure source: with a non-empty ``signal`` (calendar days), ``fraction * level`` with
    the level stepped by ``hedge_step`` every calendar day and ``day_of[d]`` the run day of
    calendar day ``d`` (-1 outside the run); otherwise ``exposure[c, t]``. ``static[t]``: base
    and shift rows equal those of ``t - 1``. When ``holdings`` is T x N (one lane: ``rows`` of
    length 1), its post-trade holdings and cash, and the share change of each fill (``sizes``,
    T x N), are traced.

    Days on which at most half the lanes trade move those lanes into packed scratch columns,
    size and fill them there, and move them back, so the cost follows the number of trades;
    when more trade, the block trades in place, the other lanes sized to no trade (``due``),
    which leaves their every bit as it was.
    Marking, the drift test and trading visit only the block's live tickers (``live``: some
    lane holds shares of it or targets it; updated whenever targets or holdings change),
    which changes no bit (``rules``) and skips, say, a hedge basket nobody holds.
    Results are collected ``_TILE`` days at a time and written as short runs of each row.
    """
    m = rows.shape[0]
    n_days, n = prices.shape
    fused = signal.shape[0] > 0
    steps = signal.shape[0] if fused else n_days
    trace = holdings.shape[0] == n_days
    # Lanes with equal level parameters (consecutive, as ``_execute`` orders them) share one
    # level path: ``hedge_step`` runs once per group and each lane reads its group's level.
    group = np.zeros(m, dtype=np.int64)
    n_groups = 0
    for k in range(m if fused else 0):
        r, s = rows[k], rows[k - 1]
        if k == 0 or hold[r] != hold[s] or up[r] != up[s] or down[r] != down[s] or exits[r] != exits[s]:
            n_groups += 1
        group[k] = n_groups - 1
    leaders = rows[np.searchsorted(group, np.arange(n_groups))]
    g_hold, g_up, g_down, g_exits = hold[leaders], up[leaders], down[leaders], exits[leaders]
    k_fraction = fraction[rows] if fused else np.zeros(0)
    active = np.zeros(n_groups, dtype=np.int64)
    desired = np.zeros(n_groups)
    remaining = np.zeros(n_groups, dtype=np.int64)
    level = np.zeros(n_groups)
    level_in_force = np.zeros(n_groups)  # each group's level on the last run day
    moved_group = np.zeros(n_groups, dtype=np.bool_)
    x_in_force = np.zeros(m)
    x = np.zeros(m)
    target = np.zeros((n, m))
    q = np.zeros((n, m))
    avg = np.zeros((n, m))
    cash = np.full(m, cash0)
    value = np.empty(m)
    previous = np.full(m, cash0)
    changed = np.zeros(m, dtype=np.bool_)
    due = np.zeros(m, dtype=np.int64)  # int64 flags: the drift loop of ``trades_due`` vectorises
    everyone = np.ones(m, dtype=np.int64)
    notional = np.zeros(m)
    live = np.arange(n)  # live[:n_live]: the tickers some lane holds or targets, in order
    n_live = 0
    count = 0  # lanes that traded on the last run day
    tile = np.empty((m, _TILE))
    flat = out.reshape(-1)
    fresh, old = np.empty(n), np.empty(n)
    work = np.empty(3 * m)
    delta, pack_q, pack_avg, pack_target, pack_delta = (
        np.empty(n * m),
        np.empty(n * m),
        np.empty(n * m),
        np.empty(n * m),
        np.empty(n * m),
    )
    pick, pack_cash, pack_notional, pack_value = (
        np.empty(m, np.int64),
        np.empty(m),
        np.empty(m),
        np.empty(m),
    )
    for step in range(steps):
        if fused:
            hedge_step(
                signal[step],
                release[step],
                g_hold,
                g_up,
                g_down,
                g_exits,
                active,
                desired,
                remaining,
                level,
            )
            t = day_of[step]
            if t < 0:
                continue
        else:
            t = step
        first = t == 0
        renew = first or not static[t]  # every lane's target row must be recomputed
        moved = renew
        if fused:  # a lane's exposure can only change when its group's level did
            for g in range(n_groups):
                moved_group[g] = level[g] != level_in_force[g]
                moved |= moved_group[g]
                level_in_force[g] = level[g]
            if moved:
                for k in range(m):
                    x[k] = k_fraction[k] * level[group[k]] if renew or moved_group[group[k]] else x_in_force[k]
        else:
            for k in range(m):
                x[k] = exposure[rows[k], t]
                moved |= x[k] != x_in_force[k]
        if moved:  # rare: only lanes whose exposure (or the base/shift row) changed
            for k in range(m):
                if renew or x[k] != x_in_force[k]:
                    for i in range(n):
                        fresh[i] = base[t, i] + x[k] * shift[t, i]
                        old[i] = target[i, k]
                        target[i, k] = fresh[i]
                    changed[k] = not first and row_changed(old, fresh)
                    x_in_force[k] = x[k]
        if moved or count > 0:  # targets or (the last trade day's) holdings changed
            n_live = _live_rows(q, target, live)
        rows_live = live[:n_live]
        p = prices[t]
        mark_to_market(q, p, cash, value, rows_live)
        trades_due(first, scheduled[t], changed, q, p, value, target, drift, due, rows_live)
        for k in range(m if moved else 0):
            changed[k] = False
        count = 0
        for k in range(m):
            count += due[k]
        if 0 < count and 2 * count <= m:
            j = 0
            for k in range(m):
                if due[k]:
                    pick[j] = k
                    j += 1
        if 2 * count > m:  # most lanes trade: in place, the others sized to no trade
            _trade(
                q,
                avg,
                p,
                cash,
                value,
                target,
                commission,
                slippage,
                due,
                delta.reshape((n, m)),
                work.reshape((3, m)),
                notional,
                rows_live,
            )
        elif count > 0:
            tq, ta, tt = (
                pack_q[: n * count].reshape((n, count)),
                pack_avg[: n * count].reshape((n, count)),
                pack_target[: n * count].reshape((n, count)),
            )
            for j in range(count):
                pack_cash[j], pack_notional[j], pack_value[j] = cash[pick[j]], notional[pick[j]], value[pick[j]]
            for i in rows_live:
                for j in range(count):
                    tq[i, j], ta[i, j], tt[i, j] = q[i, pick[j]], avg[i, pick[j]], target[i, pick[j]]
            _trade(
                tq,
                ta,
                p,
                pack_cash[:count],
                pack_value[:count],
                tt,
                commission,
                slippage,
                everyone[:count],
                pack_delta[: n * count].reshape((n, count)),
                work[: 3 * count].reshape((3, count)),
                pack_notional[:count],
                rows_live,
            )
            for i in rows_live:
                for j in range(count):
                    q[i, pick[j]], avg[i, pick[j]] = tq[i, j], ta[i, j]
            for j in range(count):
                cash[pick[j]], notional[pick[j]], value[pick[j]] = (
                    pack_cash[j],
                    pack_notional[j],
                    pack_value[j],
                )
        slot = t % _TILE  # run days come in order: t = 0, 1, ..., T - 1
        for k in range(m):
            tile[k, slot] = value[k] / previous[k] - 1.0 if as_returns else value[k]
            previous[k] = value[k]
        if slot == _TILE - 1 or t == n_days - 1:
            for k in range(m):
                start = np.uint64(rows[k] * n_days + t - slot)
                for j in range(slot + 1):
                    flat[start + np.uint64(j)] = tile[k, j]
        if trace:
            holdings[t] = q[:, 0]
            cash_path[t] = cash[0]
            sizes[t] = 0.0
            if count == m:  # tracing runs one lane (m == 1), so it traded exactly when all did
                for i in rows_live:
                    sizes[t, i] = delta[i * m]
    traded[rows] = notional


@njit(cache=True)
def _live_rows(q, target, live):
    """Write into ``live`` the tickers (rows of the N x M ``q`` and ``target``) that some column
    holds or targets, in order; returns how many."""
    n_live = 0
    for i in range(q.shape[0]):
        used = False
        for k in range(q.shape[1]):
            used |= (q[i, k] != 0.0) | (target[i, k] != 0.0)
        if used:
            live[n_live] = i
            n_live += 1
    return n_live


@njit(parallel=True, cache=True)
def _run(
    order,
    block,
    prices,
    base,
    shift,
    static,
    scheduled,
    day_of,
    signal,
    release,
    fraction,
    hold,
    up,
    down,
    exits,
    exposure,
    commission,
    slippage,
    drift,
    cash0,
    as_returns,
    out,
    traded,
    holdings,
    cash_path,
    sizes,
):
    """``_block`` over consecutive blocks of ``block`` configurations of ``order``, in parallel.

    Blocks are visited from both ends (0, last, 1, last - 1, ...): each thread's contiguous
    share of the iterations then mixes early and late blocks, whose costs differ when the
    configurations are ordered by their level parameters (short holds trade more often).
    """
    n_configs = order.shape[0]
    n_blocks = (n_configs + block - 1) // block
    for i in numba.prange(n_blocks):
        b = i // 2 if i % 2 == 0 else n_blocks - 1 - i // 2
        _block(
            order[b * block : min((b + 1) * block, n_configs)],
            prices,
            base,
            shift,
            static,
            scheduled,
            day_of,
            signal,
            release,
            fraction,
            hold,
            up,
            down,
            exits,
            exposure,
            commission,
            slippage,
            drift,
            cash0,
            as_returns,
            out,
            traded,
            holdings,
            cash_path,
            sizes,
        )


@njit(parallel=True, cache=True)
def _reduce(equity, cash0, stats):
    """Per row of ``equity``: ``row_stats`` of its returns, then final and mean equity."""
    n_days = equity.shape[1]
    for c in numba.prange(equity.shape[0]):
        path = equity[c]
        returns = np.empty(n_days)
        returns[0] = path[0] / cash0 - 1.0
        for t in range(1, n_days):
            returns[t] = path[t] / path[t - 1] - 1.0
        row_stats(returns, stats[c])
        stats[c, N_STATS] = path[n_days - 1]
        stats[c, N_STATS + 1] = path.mean()


def _block_size(n_configs: int) -> int:
    """Blocks of at most ``BLOCK``, small enough that every thread gets one."""
    per_thread = -(-n_configs // numba.get_num_threads())
    return max(1, min(BLOCK, per_thread))


@dataclass(frozen=True)
class _Market:
    """Kernel inputs shared by every configuration: prices, linear targets, trading days."""

    prices: np.ndarray
    base: np.ndarray
    shift: np.ndarray
    static: np.ndarray
    scheduled: np.ndarray

    @classmethod
    def build(
        cls,
        closes: np.ndarray,
        base: np.ndarray,
        shift: np.ndarray,
        schedule: str,
        dates: pd.DatetimeIndex | None,
        names: list[str] | None = None,
    ) -> _Market:
        """Check shapes, apply the late-listing rule (``listed_prices``), find static rows and schedule."""
        closes = np.asarray(closes, dtype=float)
        if closes.ndim != 2 or np.shape(base) != closes.shape or np.shape(shift) != closes.shape:
            raise ValueError(
                f"shapes disagree: closes {closes.shape}, base {np.shape(base)}, shift {np.shape(shift)}; "
                "expected all three T x N"
            )
        base_f, shift_f = np.ascontiguousarray(base, float), np.ascontiguousarray(shift, float)
        # nonzero wherever some configuration may hold the ticker; checked only if a price is missing
        reach = np.abs(base_f) + np.abs(shift_f) if np.isnan(closes).any() else None
        prices = np.ascontiguousarray(listed_prices(closes, reach, names=names, dates=dates))
        return cls(
            prices,
            base_f,
            shift_f,
            _static_rows(base_f, shift_f),
            _scheduled(dates, schedule, len(closes)),
        )


@njit(cache=True)
def _static_rows(base: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``static[t]``: rows ``t`` of ``base`` and ``shift`` equal rows ``t-1`` (False at 0)."""
    static = np.zeros(base.shape[0], dtype=np.bool_)
    for t in range(1, base.shape[0]):
        static[t] = True
        for i in range(base.shape[1]):
            if base[t, i] != base[t - 1, i] or shift[t, i] != shift[t - 1, i]:
                static[t] = False
                break
    return static


_NO_SIGNAL = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
_NO_RESPONSE = (np.zeros(0), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))


def _execute(
    market: _Market,
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
    out: np.ndarray,
    *,
    signal: tuple[np.ndarray, np.ndarray, np.ndarray] = _NO_SIGNAL,
    response: tuple[np.ndarray, ...] = _NO_RESPONSE,
    exposure: np.ndarray | None = None,
    as_returns: bool = False,
    trace: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Fill ``out`` (C x T) with ``_run``; returns the traded notional per configuration."""
    traded = np.zeros(out.shape[0])
    holdings, cash_path, sizes = trace if trace is not None else (np.empty((0, 0)), np.empty(0), np.empty((0, 0)))
    # Configurations with the same level path side by side: they trade on the same days.
    order = np.lexsort(response[-1:0:-1]) if len(response[0]) else np.arange(out.shape[0])
    _run(
        order,
        _block_size(out.shape[0]) if trace is None else 1,
        market.prices,
        market.base,
        market.shift,
        market.static,
        market.scheduled,
        *signal,
        *response,
        np.empty((0, 0)) if exposure is None else exposure,
        costs.commission,
        costs.slippage,
        rebalance.drift_threshold,
        float(cash),
        as_returns,
        out,
        traded,
        holdings,
        cash_path,
        sizes,
    )
    return traded


def simulate(
    closes: np.ndarray,
    base: np.ndarray,
    shift: np.ndarray,
    exposure: np.ndarray,
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
    *,
    dates: pd.DatetimeIndex | None = None,
    keep_equity: bool = False,
    periods: int = TRADING_DAYS_PER_YEAR,
) -> FastResult:
    """Run C configurations (rows of ``exposure``, C x T) on ``closes`` (T x N; NaN before listing).

    ``dates`` (length T) is needed for weekly/monthly/quarterly schedules and for calendar-year
    CAGR (without it years = T / periods). Memory beyond the inputs is O(``CHUNK`` x T + C)
    unless ``keep_equity``.
    """
    market = _Market.build(closes, base, shift, rebalance.schedule, dates)
    n_configs, n_days = len(exposure), market.prices.shape[0]
    if np.ndim(exposure) != 2 or np.shape(exposure)[1] != n_days:
        raise ValueError(
            f"shapes disagree: closes {market.prices.shape}, exposure {np.shape(exposure)}; "
            f"expected exposure C x T with T = {n_days}"
        )
    stats = np.empty((n_configs, N_STATS + 2))
    traded = np.empty(n_configs)
    equity = np.empty((n_configs, n_days)) if keep_equity else None
    for start in range(0, n_configs, CHUNK):
        stop = min(start + CHUNK, n_configs)
        paths = equity[start:stop] if equity is not None else np.empty((stop - start, n_days))
        block = np.ascontiguousarray(exposure[start:stop], dtype=float)
        traded[start:stop] = _execute(market, costs, rebalance, cash, paths, exposure=block)
        _reduce(paths, float(cash), stats[start:stop])
    if dates is not None:
        import pandas as pd

        years = calendar_years(pd.DatetimeIndex(dates))
    else:
        years = n_days / periods
    metrics = metrics_from_stats(stats[:, :N_STATS], periods=periods, years=years)
    final, mean_equity = stats[:, N_STATS], stats[:, N_STATS + 1]
    return FastResult(metrics, final, annual_turnover(traded, mean_equity, n_days, periods), equity)


def simulate_responses(
    closes: np.ndarray,
    base: np.ndarray,
    shift: np.ndarray,
    signal: np.ndarray,
    release: np.ndarray,
    in_period: np.ndarray,
    hedge_fraction: np.ndarray,
    hold_days: np.ndarray,
    step_in: np.ndarray,
    step_out: np.ndarray,
    exit_on_release: np.ndarray,
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
    dates: pd.DatetimeIndex | None = None,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Daily returns (C x T float64, one C-contiguous row per configuration) of C responses.

    The same numbers as ``hedge_levels(signal, release, hold_days, step_in, step_out,
    exit_on_release)``, then ``exposure = hedge_fraction[:, None] * levels[:, in_period]`` and
    ``simulate(closes, base, shift, exposure, ..., keep_equity=True)``, then
    ``r_t = E_t / E_{t-1} - 1`` with ``E_{-1} = cash``, computed in one fused pass.

    ``closes``, ``base``, ``shift``: T x N on the run calendar ``dates``; ``signal`` (float in
    [0, 1]), ``release`` (bool), ``in_period`` (bool, exactly T True): the full calendar,
    warm-up included; the five response arrays: ``(C,)``. Memory beyond the inputs is the
    C x T result plus O(C x N); pass ``out`` (C x T float64, C-contiguous) to reuse a buffer
    across chunks (the result is written there and returned).
    """
    market = _Market.build(closes, base, shift, rebalance.schedule, dates)
    signal_args, response = _response_inputs(
        market, signal, release, in_period, (hedge_fraction, hold_days, step_in, step_out, exit_on_release)
    )
    shape = (response[0].shape[0], market.prices.shape[0])
    if out is not None and (out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}; got {out.shape} {out.dtype}")
    returns = np.empty(shape) if out is None else out
    _execute(market, costs, rebalance, cash, returns, signal=signal_args, response=response, as_returns=True)
    return returns


def _response_inputs(
    market: _Market, signal: np.ndarray, release: np.ndarray, in_period: np.ndarray, arrays: tuple
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, ...]]:
    """Checked kernel inputs of the response mode: (day_of, signal, release) from the first
    day a level can leave 0, and the five response arrays."""
    n_days = market.prices.shape[0]
    signal = np.ascontiguousarray(signal, dtype=float)
    release = np.ascontiguousarray(release, dtype=bool)
    check_signal(signal, release)
    in_period = np.asarray(in_period, dtype=bool)
    if in_period.shape != signal.shape or int(in_period.sum()) != n_days:
        raise ValueError(
            f"in_period must be a bool mask as long as the signal ({signal.shape[0]}) with exactly "
            f"T = {n_days} days set; it has {in_period.shape} with {int(in_period.sum())} set"
        )
    hedge_fraction, hold_days, step_in, step_out, exit_on_release = arrays
    response = (
        np.ascontiguousarray(hedge_fraction, dtype=float),
        np.ascontiguousarray(hold_days, dtype=np.int64),
        np.ascontiguousarray(step_in, dtype=float),
        np.ascontiguousarray(step_out, dtype=float),
        np.asarray(exit_on_release, dtype=bool).astype(np.int64),
    )
    n_configs = response[0].shape[0]
    if any(a.shape != (n_configs,) for a in response):
        raise ValueError(
            f"the response arrays must all be 1-d of one length; got {[a.shape for a in response]}"
        )
    day_of = np.full(signal.shape[0], -1, dtype=np.int64)
    day_of[in_period] = np.arange(n_days)
    skip = min(resting_until(signal), int(np.argmax(in_period)))  # every level is 0 before
    return (day_of[skip:], signal[skip:], release[skip:]), response


def _scheduled(dates: pd.DatetimeIndex | None, schedule: str, n_days: int) -> np.ndarray:
    """``scheduled_days`` on ``dates`` (a DatetimeIndex or datetime64 values); without dates only
    "none" and "daily" are possible."""
    if dates is not None:
        return scheduled_days(dates, schedule)
    if schedule not in ("none", "daily"):
        raise ValueError(f"rebalance schedule {schedule!r} needs the dates; pass dates=")
    out = np.full(n_days, schedule == "daily")
    out[0] = True
    return out


def run_fast(
    closes: pd.DataFrame,
    targets: pd.DataFrame,
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
) -> ExecutionResult:
    """One configuration (``targets`` as given) through the compiled kernel, traced."""
    import pandas as pd

    tickers = list(closes.columns)
    dates = pd.DatetimeIndex(closes.index)
    weights = aligned_targets(targets, closes)
    market = _Market.build(
        closes.to_numpy(dtype=float),
        weights,
        np.zeros_like(weights),
        rebalance.schedule,
        dates,
        tickers,
    )
    return _traced(market, dates, tickers, costs, rebalance, cash, exposure=np.zeros((1, len(dates))))


def run_fast_response(
    closes: pd.DataFrame,
    base: pd.DataFrame,
    shift: pd.DataFrame,
    signal: np.ndarray,
    release: np.ndarray,
    in_period: np.ndarray,
    response: tuple[np.ndarray, ...],
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
) -> ExecutionResult:
    """One response configuration (the five arrays of ``simulate_responses``, length 1), traced.

    The same kernel mode as ``simulate_responses``: a run's returns equal a sweep's for the
    same configuration bit for bit.
    """
    import pandas as pd

    tickers = list(closes.columns)
    dates = pd.DatetimeIndex(closes.index)
    market = _Market.build(
        closes.to_numpy(dtype=float),
        base.reindex(columns=tickers).to_numpy(dtype=float),
        shift.reindex(columns=tickers).to_numpy(dtype=float),
        rebalance.schedule,
        dates,
        tickers,
    )
    signal_args, arrays = _response_inputs(market, signal, release, in_period, response)
    return _traced(market, dates, tickers, costs, rebalance, cash, signal=signal_args, response=arrays)


def _traced(
    market: _Market,
    dates: pd.DatetimeIndex,
    tickers: list[str],
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
    **source: np.ndarray | tuple[np.ndarray, ...],
) -> ExecutionResult:
    """One configuration through ``_execute`` (exposure ``source`` as it takes it), holdings, cash
    and fills traced: the ``ExecutionResult`` ``run_backtrader`` gives for it, bit for bit."""
    n_days, n = market.prices.shape
    holdings, cash_path, sizes = np.empty((n_days, n)), np.empty(n_days), np.empty((n_days, n))
    _execute(market, costs, rebalance, cash, np.empty((1, n_days)), trace=(holdings, cash_path, sizes), **source)
    trades = _fills(dates, tickers, market.prices, sizes, costs)
    return build_result(dates, tickers, market.prices, holdings, cash_path, float(cash), trades)


def _fills(
    dates: pd.DatetimeIndex,
    tickers: list[str],
    prices: np.ndarray,
    sizes: np.ndarray,
    costs: CostModel,
) -> pd.DataFrame:
    """One row per traced fill (``sizes``, T x N), in execution order (per day: sells, then buys,
    each in ticker order), priced and charged as backtrader's broker does."""
    import pandas as pd

    day, col = np.nonzero(sizes)
    order = np.lexsort((col, sizes[day, col] > 0, day))
    day, col = day[order], col[order]
    size = sizes[day, col]
    price = prices[day, col] * (1.0 + np.sign(size) * costs.slippage)
    frame = pd.DataFrame(
        {
            "date": dates[day],
            "ticker": np.asarray(tickers, dtype=object)[col],
            "size": size,
            "price": price,
            "value": np.abs(size) * price,
            "commission": np.abs(size) * costs.commission * price,
        }
    )
    return frame[list(TRADE_COLUMNS)]
