"""Turn validated input tables into SectorMetrics: every figure of the brief, by DOMAIN.md's formulas.

Pure functions over DataFrames, no I/O. Over a window of days the desk takes a ratio of window
means, never a mean of daily ratios:

    revenue per EH/s (window) = 144 x (subsidy + sum F / sum B) x mean(P) / mean(H)

The bank's monthly headline "daily block reward revenue per EH/s" counts the subsidy alone (DOMAIN.md
measured it against two dozen published figures): the block_reward_* figures stand beside the
fee-inclusive ones. Cost assumptions may be dated schedules; a window uses the values in force over
its days (briefgen.sectors.bitcoin_mining.assumptions).

Point-in-time series (market caps, listed miners' hashrate) take the last value on or before a date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd

from briefgen.sectors.bitcoin_mining.assumptions import Assumptions, InForce
from briefgen.inputs.config import BriefConfig, Window, prior_month
from briefgen.sectors.bitcoin_mining.schedule import BLOCKS_PER_DAY, OPPORTUNITY_BLOCKS, block_reward_opportunity_btc

# Fleet-efficiency classes for revenue per MWh: (label, low J/TH, high J/TH, representative J/TH).
FLEET_CLASSES: tuple[tuple[str, float, float, float], ...] = (
    ("Below 19 J/TH", 15.0, 19.0, 17.0),
    ("19\u201325 J/TH", 19.0, 25.0, 22.0),
    ("25\u201338 J/TH", 25.0, 38.0, 31.5),
)
SENSITIVITY_PRICE_STEPS = (-0.30, -0.20, -0.10, 0.0, 0.10, 0.20, 0.30)
SENSITIVITY_HASHRATE_STEPS = (-0.10, -0.05, 0.0, 0.05, 0.10)
ROLLING_DAYS = 7


@dataclass(frozen=True)
class Figure:
    """One figure in the period, the compare window and the prior calendar month.

    `kind` says how change is expressed: "level" as a percentage change, "share" (a percentage
    itself, such as a margin) as a change in basis points.
    """

    period: float | None
    compare: float | None
    prior_month: float | None = None
    kind: Literal["level", "share"] = "level"

    @staticmethod
    def _pct(new: float | None, old: float | None) -> float | None:
        if new is None or old is None or old == 0 or not (math.isfinite(new) and math.isfinite(old)):
            return None
        return (new / old - 1.0) * 100.0

    @staticmethod
    def _bps(new: float | None, old: float | None) -> float | None:
        if new is None or old is None or not (math.isfinite(new) and math.isfinite(old)):
            return None
        return (new - old) * 100.0

    @property
    def change_pct(self) -> float | None:
        return self._pct(self.period, self.compare)

    @property
    def change_bps(self) -> float | None:
        return self._bps(self.period, self.compare)

    @property
    def change_abs(self) -> float | None:
        if self.period is None or self.compare is None:
            return None
        return self.period - self.compare

    @property
    def change_vs_prior_month(self) -> float | None:
        """Percentage change for levels, basis points for shares."""
        if self.kind == "share":
            return self._bps(self.period, self.prior_month)
        return self._pct(self.period, self.prior_month)

    def as_dict(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {"period": self.period, "compare": self.compare}
        if self.kind == "share":
            out["change_bps"] = self.change_bps
            out["prior_month"] = self.prior_month
            out["change_bps_vs_prior_month"] = self.change_vs_prior_month
        else:
            out["change_pct"] = self.change_pct
            out["prior_month"] = self.prior_month
            out["change_pct_vs_prior_month"] = self.change_vs_prior_month
        return out


@dataclass(frozen=True)
class NextAdjustment:
    """Estimated next difficulty retarget from the pace of blocks since the last one."""

    last_retarget: date
    difficulty: float
    blocks_per_day: float
    estimated_change_pct: float


@dataclass(frozen=True)
class NetworkFigures:
    hashrate_ehs: Figure
    btc_price_usd: Figure
    fees_btc_per_block: Figure
    fee_share_pct: Figure
    difficulty: Figure | None
    next_adjustment: NextAdjustment | None
    block_height: int
    btc_price_at_end: float


@dataclass(frozen=True)
class EconomicsFigures:
    hashprice_usd_per_ph_day: Figure
    hashprice_btc_per_ph_day: Figure
    revenue_usd_per_eh_day: Figure
    power_cost_usd_per_eh_day: Figure
    gross_profit_usd_per_eh_day: Figure
    gross_margin_pct: Figure
    breakeven_power_usd_per_kwh: Figure
    power_cost_usd_per_btc: Figure
    # The bank's monthly headline: the block subsidy alone, fees left out (its hashprice includes them).
    block_reward_revenue_usd_per_eh_day: Figure
    block_reward_gross_profit_usd_per_eh_day: Figure
    block_reward_gross_margin_pct: Figure


@dataclass(frozen=True, eq=False)
class MinerFigures:
    """Listed miners. by_ticker columns: ticker, name, hashrate_ehs, hashrate_start_ehs, added_ehs, share_pct."""

    hashrate_ehs: Figure
    share_of_network_pct: Figure
    capacity_added_ehs: float
    capacity_since: date
    capacity_to: date
    leaders: tuple[str, ...]
    by_ticker: pd.DataFrame


@dataclass(frozen=True, eq=False)
class EquityFigures:
    """Equities. by_ticker columns: ticker, name, market_cap_start_usd, market_cap_usd, change_pct, vs_btc_pp."""

    market_cap_usd: Figure
    start: date
    end: date
    btc_change_pct: float
    by_ticker: pd.DataFrame
    best: str
    worst: str
    beat_btc_count: int
    count: int


@dataclass(frozen=True)
class Valuation:
    block_height: int
    btc_price_usd: float
    opportunity_4y_btc: float
    opportunity_4y_usd: float
    market_cap_usd: float | None
    market_cap_to_opportunity_pct: float | None
    market_cap_to_proportional_opportunity_x: float | None


@dataclass(frozen=True, eq=False)
class Series:
    """Time series for the charts.

    daily: date, btc_price_usd, hashrate_ehs, hashrate_7d_ehs, difficulty, height,
           hashprice_usd_per_ph_day, hashprice_btc_per_ph_day
    monthly: month (first day), hashrate_ehs, btc_price_usd, revenue_usd_per_eh_day,
           power_cost_usd_per_eh_day, gross_profit_usd_per_eh_day, gross_margin_pct,
           block_reward_revenue_usd_per_eh_day, block_reward_gross_profit_usd_per_eh_day,
           block_reward_gross_margin_pct, fleet_efficiency_j_per_th, power_price_usd_per_kwh
    listed_share: date, listed_ehs, network_ehs, share_pct (empty without miner inputs)
    market_cap: date, market_cap_usd, opportunity_4y_usd, market_cap_to_opportunity_pct (empty without caps)
    """

    daily: pd.DataFrame
    monthly: pd.DataFrame
    listed_share: pd.DataFrame
    market_cap: pd.DataFrame


@dataclass(frozen=True, eq=False)
class SectorMetrics:
    """Every figure of the brief, for the period, the compare window and the prior month."""

    period: Window
    compare: Window
    prior_month: Window
    assumptions: Assumptions
    network: NetworkFigures
    economics: EconomicsFigures
    fleet_classes: pd.DataFrame  # class, efficiency_j_per_th, revenue_usd_per_mwh, power_usd_per_mwh, margin_pct
    sensitivity: pd.DataFrame  # hashprice $/PH/s/day; index hashrate_ehs, columns btc_price_usd
    miners: MinerFigures | None
    equities: EquityFigures | None
    valuation: Valuation
    deals: pd.DataFrame
    series: Series
    network_sources: tuple[str, ...] = ()  # the `source` column's values: where fetched rows came from
    deals_since: date | None = None  # deals listed are those after this day (the previous brief), else the period's
    # "period", "compare", "prior_month" -> the assumptions each window used (None: no data for it)
    in_force: dict[str, InForce | None] = field(default_factory=dict)

    @property
    def used(self) -> InForce:
        """The assumptions the period used (what the brief prints beside its margin)."""
        in_force = self.in_force.get("period")
        return in_force if in_force is not None else self.assumptions.over([self.period.end])


# --- window arithmetic -----------------------------------------------------------------------


@dataclass(frozen=True)
class WindowFigures:
    """The network and economics figures of one window, by the ratio-of-window-means convention."""

    days: int
    hashrate_ehs: float
    btc_price_usd: float
    fees_btc_per_block: float
    subsidy_btc_per_block: float
    fee_share_pct: float
    difficulty: float | None
    hashprice_btc_per_ph_day: float
    hashprice_usd_per_ph_day: float
    revenue_usd_per_eh_day: float
    power_cost_usd_per_eh_day: float
    gross_profit_usd_per_eh_day: float
    gross_margin_pct: float
    breakeven_power_usd_per_kwh: float
    power_cost_usd_per_btc: float
    block_reward_revenue_usd_per_eh_day: float
    block_reward_gross_profit_usd_per_eh_day: float
    block_reward_gross_margin_pct: float
    power_price_usd_per_kwh: float  # the assumptions in force over the window's days (day-weighted)
    fleet_efficiency_j_per_th: float
    in_force: InForce


def window_figures(days: pd.DataFrame, assumptions: Assumptions) -> WindowFigures:
    """Compute one window's figures from its daily rows (DOMAIN.md's window convention).

    Power cost is the mean of the days' costs at the assumptions in force each day; breakeven power
    price divides by the day-weighted efficiency.
    """
    blocks = float(days["blocks"].sum())
    fees = float(days["fees_btc"].sum())
    issued = float(days["subsidy_btc"].sum())
    price = float(days["btc_price_usd"].mean())
    hashrate = float(days["hashrate_ehs"].mean())
    subsidy_per_block = issued / blocks
    fee_per_block = fees / blocks
    hashprice_btc = BLOCKS_PER_DAY * (subsidy_per_block + fee_per_block) / (1000.0 * hashrate)
    hashprice_usd = hashprice_btc * price
    revenue = 1000.0 * hashprice_usd
    block_reward = BLOCKS_PER_DAY * subsidy_per_block * price / hashrate
    in_force = assumptions.over(day.date() for day in pd.to_datetime(days["date"]))
    power = in_force.power_cost_usd_per_eh_day
    efficiency = in_force.fleet_efficiency_j_per_th
    difficulty = days["difficulty"].mean() if "difficulty" in days and days["difficulty"].notna().all() else None
    return WindowFigures(
        days=len(days),
        hashrate_ehs=hashrate,
        btc_price_usd=price,
        fees_btc_per_block=fee_per_block,
        subsidy_btc_per_block=subsidy_per_block,
        fee_share_pct=100.0 * fees / (issued + fees),
        difficulty=None if difficulty is None else float(difficulty),
        hashprice_btc_per_ph_day=hashprice_btc,
        hashprice_usd_per_ph_day=hashprice_usd,
        revenue_usd_per_eh_day=revenue,
        power_cost_usd_per_eh_day=power,
        gross_profit_usd_per_eh_day=revenue - power,
        gross_margin_pct=100.0 * (revenue - power) / revenue,
        breakeven_power_usd_per_kwh=hashprice_usd / (24.0 * efficiency),
        power_cost_usd_per_btc=(power / 1000.0) / hashprice_btc,
        block_reward_revenue_usd_per_eh_day=block_reward,
        block_reward_gross_profit_usd_per_eh_day=block_reward - power,
        block_reward_gross_margin_pct=100.0 * (block_reward - power) / block_reward,
        power_price_usd_per_kwh=in_force.power_price_usd_per_kwh,
        fleet_efficiency_j_per_th=efficiency,
        in_force=in_force,
    )


def _slice(frame: pd.DataFrame, window: Window, column: str = "date") -> pd.DataFrame:
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    return frame[(frame[column] >= start) & (frame[column] <= end)]


def _figure(name: str, windows: dict[str, WindowFigures | None], kind: Literal["level", "share"] = "level") -> Figure:
    def value(key: str) -> float | None:
        figures = windows[key]
        return None if figures is None else getattr(figures, name)

    return Figure(value("period"), value("compare"), value("prior_month"), kind)


# --- point-in-time series (listed hashrate, market caps) -------------------------------------


def members_on(miners: pd.DataFrame, day: pd.Timestamp) -> set[str]:
    """Tickers tracked on `day` by their membership dates."""
    active = (miners["from"] <= day) & (miners["to"].isna() | (miners["to"] >= day))
    return set(miners.loc[active, "ticker"])


def last_values(frame: pd.DataFrame, value: str, miners: pd.DataFrame, day: date | pd.Timestamp) -> pd.DataFrame:
    """Each member's last `value` on or before `day`: columns ticker, date, value."""
    day = pd.Timestamp(day)
    known = frame[(frame["date"] <= day) & frame["ticker"].isin(members_on(miners, day))]
    latest = known.sort_values("date", kind="stable").groupby("ticker", sort=True).tail(1)
    return latest[["ticker", "date", value]].sort_values("ticker").reset_index(drop=True)


def combined_series(frame: pd.DataFrame, value: str, miners: pd.DataFrame, days) -> pd.Series:
    """Sum of each member's last `value` on or before each day, for many days at once (NaN: none known)."""
    days = pd.DatetimeIndex(pd.to_datetime(days)).sort_values()
    wide = frame.pivot(index="date", columns="ticker", values=value).sort_index()
    wide = wide.reindex(wide.index.union(days)).ffill().reindex(days)
    spans = miners.set_index("ticker").reindex(wide.columns)
    day_values = wide.index.to_numpy()[:, None]
    member = (spans["from"].to_numpy()[None, :] <= day_values) & (
        spans["to"].isna().to_numpy()[None, :] | (spans["to"].to_numpy()[None, :] >= day_values))
    return wide.where(member).sum(axis=1, min_count=1)


def combined_on(frame: pd.DataFrame, value: str, miners: pd.DataFrame, day: date | pd.Timestamp) -> float | None:
    total = combined_series(frame, value, miners, [pd.Timestamp(day)]).iloc[0]
    return None if pd.isna(total) else float(total)


def _on_or_before(network: pd.DataFrame, day: date) -> pd.Series:
    return network[network["date"] <= pd.Timestamp(day)].iloc[-1]


# --- the stages of compute -------------------------------------------------------------------


def _next_adjustment(network: pd.DataFrame) -> NextAdjustment | None:
    """Estimate the next retarget from the pace of blocks since the last one (needs difficulty)."""
    if network["difficulty"].isna().any() or len(network) < 2:
        return None
    from briefgen.sectors.bitcoin_mining.schedule import RETARGET_INTERVAL

    last = network.iloc[-1]
    epoch_start = (int(last["height"]) // RETARGET_INTERVAL) * RETARGET_INTERVAL
    first = network.iloc[0]
    if int(first["height"]) - int(first["blocks"]) + 1 > epoch_start:
        return None  # the last retarget came before the data starts
    retarget_day = network.loc[network["height"] >= epoch_start, "date"].iloc[0]
    # Whole days after the retarget day measure the pace; right after a retarget, use the last 3 days.
    after = network[network["date"] > retarget_day]
    pace = after if len(after) >= 1 else network.tail(3)
    blocks_per_day = float(pace["blocks"].mean())
    return NextAdjustment(
        last_retarget=retarget_day.date(),
        difficulty=float(last["difficulty"]),
        blocks_per_day=blocks_per_day,
        estimated_change_pct=(blocks_per_day / BLOCKS_PER_DAY - 1.0) * 100.0,
    )


def _network_and_economics(network: pd.DataFrame, windows: dict[str, WindowFigures | None], period: Window):
    end_row = _on_or_before(network, period.end)
    has_difficulty = windows["period"].difficulty is not None
    net = NetworkFigures(
        hashrate_ehs=_figure("hashrate_ehs", windows),
        btc_price_usd=_figure("btc_price_usd", windows),
        fees_btc_per_block=_figure("fees_btc_per_block", windows),
        fee_share_pct=_figure("fee_share_pct", windows, "share"),
        difficulty=_figure("difficulty", windows) if has_difficulty else None,
        next_adjustment=_next_adjustment(network),
        block_height=int(end_row["height"]),
        btc_price_at_end=float(end_row["btc_price_usd"]),
    )
    econ = EconomicsFigures(
        hashprice_usd_per_ph_day=_figure("hashprice_usd_per_ph_day", windows),
        hashprice_btc_per_ph_day=_figure("hashprice_btc_per_ph_day", windows),
        revenue_usd_per_eh_day=_figure("revenue_usd_per_eh_day", windows),
        power_cost_usd_per_eh_day=_figure("power_cost_usd_per_eh_day", windows),
        gross_profit_usd_per_eh_day=_figure("gross_profit_usd_per_eh_day", windows),
        gross_margin_pct=_figure("gross_margin_pct", windows, "share"),
        breakeven_power_usd_per_kwh=_figure("breakeven_power_usd_per_kwh", windows),
        power_cost_usd_per_btc=_figure("power_cost_usd_per_btc", windows),
        block_reward_revenue_usd_per_eh_day=_figure("block_reward_revenue_usd_per_eh_day", windows),
        block_reward_gross_profit_usd_per_eh_day=_figure("block_reward_gross_profit_usd_per_eh_day", windows),
        block_reward_gross_margin_pct=_figure("block_reward_gross_margin_pct", windows, "share"),
    )
    return net, econ


def fleet_classes(period: WindowFigures) -> pd.DataFrame:
    """Revenue per MWh consumed, by fleet-efficiency class: revenue per EH/s per day / (24 x e) MWh.

    Power per MWh is the price in force over the period (day-weighted where a schedule changes in it).
    """
    power_per_mwh = period.power_price_usd_per_kwh * 1000.0
    rows = []
    for label, _low, _high, efficiency in FLEET_CLASSES:
        revenue_per_mwh = period.revenue_usd_per_eh_day / (24.0 * efficiency)
        rows.append({
            "class": label,
            "efficiency_j_per_th": efficiency,
            "revenue_usd_per_mwh": revenue_per_mwh,
            "power_usd_per_mwh": power_per_mwh,
            "margin_pct": 100.0 * (1.0 - power_per_mwh / revenue_per_mwh),
            "breakeven_power_usd_per_kwh": period.hashprice_usd_per_ph_day / (24.0 * efficiency),
        })
    return pd.DataFrame(rows)


def sensitivity(period: WindowFigures) -> pd.DataFrame:
    """Hashprice ($/PH/s/day) over a grid of BTC price (columns) x network hashrate (rows).

    Axes are the period's means moved by fixed steps and rounded for reading: prices to a tenth of
    their order of magnitude ($63,000, $90,000), hashrates to a hundredth (970, 1,020 EH/s). The
    step scales with the value, so a small network never rounds to zero. The period's subsidy and
    fees per block are held.
    """
    reward = BLOCKS_PER_DAY * (period.subsidy_btc_per_block + period.fees_btc_per_block)
    price_step = _order_of(period.btc_price_usd) / 10
    hashrate_step = _order_of(period.hashrate_ehs) / 100
    prices = [_round_to(period.btc_price_usd * (1 + s), price_step) for s in SENSITIVITY_PRICE_STEPS]
    hashrates = [_round_to(period.hashrate_ehs * (1 + s), hashrate_step) for s in SENSITIVITY_HASHRATE_STEPS]
    grid = [[reward * p / (1000.0 * h) for p in prices] for h in hashrates]
    frame = pd.DataFrame(grid, index=pd.Index(hashrates, name="hashrate_ehs"), columns=pd.Index(prices, name="btc_price_usd"))
    return frame


def _order_of(value: float) -> float:
    """The power of ten at or below a positive number (90,359 -> 10,000)."""
    return 10.0 ** math.floor(math.log10(value))


def _round_to(value: float, step: float) -> float:
    """Round to a multiple of step, never below one step (a positive axis value stays positive)."""
    return max(step, round(value / step) * step)


def _miner_figures(inputs, windows, period: Window, compare: Window, month: Window) -> MinerFigures | None:
    hashrate, miners = inputs.miner_hashrate, inputs.miners
    if hashrate is None or miners is None or hashrate.empty:
        return None
    listed = {key: combined_on(hashrate, "hashrate_ehs", miners, w.end) for key, w in
              (("period", period), ("compare", compare), ("prior_month", month))}

    def share(key: str) -> float | None:
        return None if listed[key] is None or windows[key] is None else 100.0 * listed[key] / windows[key].hashrate_ehs

    end = last_values(hashrate, "hashrate_ehs", miners, period.end)
    start = last_values(hashrate, "hashrate_ehs", miners, compare.start)
    table = end.merge(start, on="ticker", how="left", suffixes=("", "_start"))
    table = table.merge(miners[["ticker", "name"]], on="ticker", how="left")
    table["hashrate_start_ehs"] = table["hashrate_ehs_start"].fillna(0.0)
    table["added_ehs"] = table["hashrate_ehs"] - table["hashrate_start_ehs"]
    table["share_pct"] = 100.0 * table["hashrate_ehs"] / table["hashrate_ehs"].sum()
    table = table.sort_values(["hashrate_ehs", "ticker"], ascending=[False, True]).reset_index(drop=True)
    added = float(end["hashrate_ehs"].sum() - start["hashrate_ehs"].sum())
    leaders = table[table["added_ehs"] > 0].sort_values(["added_ehs", "ticker"], ascending=[False, True])["ticker"]
    return MinerFigures(
        hashrate_ehs=Figure(listed["period"], listed["compare"], listed["prior_month"]),
        share_of_network_pct=Figure(share("period"), share("compare"), share("prior_month"), "share"),
        capacity_added_ehs=added,
        capacity_since=(start["date"].max() if not start.empty else pd.Timestamp(compare.start)).date(),
        capacity_to=end["date"].max().date(),
        leaders=tuple(leaders.head(2)),
        by_ticker=table[["ticker", "name", "hashrate_ehs", "hashrate_start_ehs", "added_ehs", "share_pct"]],
    )


def _equity_figures(inputs, network: pd.DataFrame, period: Window, compare: Window, month: Window) -> EquityFigures | None:
    caps, miners = inputs.market_caps, inputs.miners
    if caps is None or miners is None or caps.empty:
        return None
    combined = {key: combined_on(caps, "market_cap_usd", miners, w.end) for key, w in
                (("period", period), ("compare", compare), ("prior_month", month))}
    end = last_values(caps, "market_cap_usd", miners, period.end)
    start = last_values(caps, "market_cap_usd", miners, compare.end)
    if end.empty:
        return None
    btc_change = (float(_on_or_before(network, period.end)["btc_price_usd"])
                  / float(_on_or_before(network, compare.end)["btc_price_usd"]) - 1.0) * 100.0
    table = end.merge(start, on="ticker", how="inner", suffixes=("", "_start"))
    table = table.merge(miners[["ticker", "name"]], on="ticker", how="left")
    table = table.rename(columns={"market_cap_usd_start": "market_cap_start_usd"})
    table["change_pct"] = (table["market_cap_usd"] / table["market_cap_start_usd"] - 1.0) * 100.0
    table["vs_btc_pp"] = table["change_pct"] - btc_change
    table = table.sort_values(["change_pct", "ticker"], ascending=[False, True]).reset_index(drop=True)
    table = table[["ticker", "name", "market_cap_start_usd", "market_cap_usd", "change_pct", "vs_btc_pp"]]
    return EquityFigures(
        market_cap_usd=Figure(combined["period"], combined["compare"], combined["prior_month"]),
        start=start["date"].max().date() if not start.empty else compare.end,
        end=end["date"].max().date(),
        btc_change_pct=btc_change,
        by_ticker=table,
        best=str(table["ticker"].iloc[0]) if not table.empty else "",
        worst=str(table["ticker"].iloc[-1]) if not table.empty else "",
        beat_btc_count=int((table["vs_btc_pp"] > 0).sum()),
        count=len(table),
    )


def opportunity_usd(height: int, price: float) -> float:
    return block_reward_opportunity_btc(height, OPPORTUNITY_BLOCKS) * price


def _valuation(network: NetworkFigures, miners: MinerFigures | None, equities: EquityFigures | None) -> Valuation:
    opportunity_btc = block_reward_opportunity_btc(network.block_height, OPPORTUNITY_BLOCKS)
    opportunity = opportunity_btc * network.btc_price_at_end
    cap = equities.market_cap_usd.period if equities else None
    share = miners.share_of_network_pct.period if miners else None
    return Valuation(
        block_height=network.block_height,
        btc_price_usd=network.btc_price_at_end,
        opportunity_4y_btc=opportunity_btc,
        opportunity_4y_usd=opportunity,
        market_cap_usd=cap,
        market_cap_to_opportunity_pct=None if cap is None else 100.0 * cap / opportunity,
        market_cap_to_proportional_opportunity_x=None if cap is None or not share else cap / (share / 100.0 * opportunity),
    )


def _series(inputs, network: pd.DataFrame) -> Series:
    assumptions = inputs.config.assumptions
    daily = network[["date", "btc_price_usd", "hashrate_ehs", "difficulty", "height"]].copy()
    daily["hashrate_7d_ehs"] = network["hashrate_ehs"].rolling(ROLLING_DAYS, min_periods=ROLLING_DAYS).mean()
    reward = BLOCKS_PER_DAY * (network["subsidy_btc"] + network["fees_btc"]) / network["blocks"]
    daily["hashprice_btc_per_ph_day"] = reward / (1000.0 * network["hashrate_ehs"])
    daily["hashprice_usd_per_ph_day"] = daily["hashprice_btc_per_ph_day"] * network["btc_price_usd"]

    rows = []
    for month, days in network.groupby(network["date"].dt.to_period("M"), sort=True):
        f = window_figures(days, assumptions)
        rows.append({"month": month.to_timestamp(), "days": f.days, "hashrate_ehs": f.hashrate_ehs,
                     "btc_price_usd": f.btc_price_usd, "revenue_usd_per_eh_day": f.revenue_usd_per_eh_day,
                     "power_cost_usd_per_eh_day": f.power_cost_usd_per_eh_day,
                     "gross_profit_usd_per_eh_day": f.gross_profit_usd_per_eh_day, "gross_margin_pct": f.gross_margin_pct,
                     "block_reward_revenue_usd_per_eh_day": f.block_reward_revenue_usd_per_eh_day,
                     "block_reward_gross_profit_usd_per_eh_day": f.block_reward_gross_profit_usd_per_eh_day,
                     "block_reward_gross_margin_pct": f.block_reward_gross_margin_pct,
                     "fleet_efficiency_j_per_th": f.fleet_efficiency_j_per_th,
                     "power_price_usd_per_kwh": f.power_price_usd_per_kwh})
    monthly = pd.DataFrame(rows)

    listed_share = pd.DataFrame(columns=["date", "listed_ehs", "network_ehs", "share_pct"])
    if inputs.miner_hashrate is not None and inputs.miners is not None and not inputs.miner_hashrate.empty:
        days = pd.DatetimeIndex(sorted(inputs.miner_hashrate["date"].unique()))
        days = days[(days >= network["date"].iloc[0]) & (days <= network["date"].iloc[-1])]
        listed = combined_series(inputs.miner_hashrate, "hashrate_ehs", inputs.miners, days)
        # Each point against the network's mean over its calendar month to date.
        months = network.groupby(network["date"].dt.to_period("M"))
        month_to_date = months["hashrate_ehs"].cumsum() / (months.cumcount() + 1)
        mean = month_to_date.set_axis(network["date"]).reindex(days).to_numpy()
        listed_share = pd.DataFrame({"date": days, "listed_ehs": listed.to_numpy(), "network_ehs": mean,
                                     "share_pct": 100.0 * listed.to_numpy() / mean}).dropna().reset_index(drop=True)

    market_cap = pd.DataFrame(columns=["date", "market_cap_usd", "opportunity_4y_usd", "market_cap_to_opportunity_pct"])
    if inputs.market_caps is not None and inputs.miners is not None and not inputs.market_caps.empty:
        days = pd.DatetimeIndex(sorted(inputs.market_caps["date"].unique()))
        days = days[(days >= network["date"].iloc[0]) & (days <= network["date"].iloc[-1])]
        total = combined_series(inputs.market_caps, "market_cap_usd", inputs.miners, days)
        rows = network.set_index("date")[["height", "btc_price_usd"]]
        at_day = rows.reindex(rows.index.union(days)).ffill().reindex(days)  # last day on or before
        opportunity = [opportunity_usd(int(h), float(p)) for h, p in zip(at_day["height"], at_day["btc_price_usd"])]
        market_cap = pd.DataFrame({"date": days, "market_cap_usd": total.to_numpy(), "opportunity_4y_usd": opportunity})
        market_cap["market_cap_to_opportunity_pct"] = 100.0 * market_cap["market_cap_usd"] / market_cap["opportunity_4y_usd"]
        market_cap = market_cap.dropna().reset_index(drop=True)
    return Series(daily=daily.reset_index(drop=True), monthly=monthly, listed_share=listed_share, market_cap=market_cap)


def compute(inputs) -> SectorMetrics:
    """Compute every figure of the brief from validated inputs (briefgen.sectors.bitcoin_mining.inputs.Inputs)."""
    config: BriefConfig = inputs.config
    assert config.period is not None and config.compare is not None and config.as_of is not None
    period, compare = config.period, config.compare
    month = prior_month(period)
    # Every figure, chart and table stops at the period's end, the date the cover gives as "data to":
    # a day of data after it (as_of may be later) would put the charts a day past the tables.
    # (load_inputs already keeps only rows up to the period's end; inputs built another way are held to it here too.)
    network = inputs.network[inputs.network["date"] <= pd.Timestamp(period.end)].reset_index(drop=True)
    windows: dict[str, WindowFigures | None] = {}
    for key, window in (("period", period), ("compare", compare), ("prior_month", month)):
        days = _slice(network, window)
        # The prior month is a reference only: left out unless the data covers all of it.
        complete = len(days) == window.days or key != "prior_month"
        windows[key] = window_figures(days, config.assumptions) if len(days) and complete else None
    net, econ = _network_and_economics(network, windows, period)
    miners = _miner_figures(inputs, windows, period, compare, month)
    equities = _equity_figures(inputs, network, period, compare, month)
    deals = _deals_announced(inputs.deals, period, config.deals_since)
    return SectorMetrics(
        period=period,
        compare=compare,
        prior_month=month,
        assumptions=config.assumptions,
        in_force={key: None if figures is None else figures.in_force for key, figures in windows.items()},
        network=net,
        economics=econ,
        fleet_classes=fleet_classes(windows["period"]),
        sensitivity=sensitivity(windows["period"]),
        miners=miners,
        equities=equities,
        valuation=_valuation(net, miners, equities),
        deals=deals,
        series=_series(inputs, network),
        network_sources=tuple(sorted({str(v) for v in network["source"].dropna() if str(v).strip()})),
        deals_since=config.deals_since,
    )


def _deals_announced(deals: pd.DataFrame, period: Window, since: date | None) -> pd.DataFrame:
    """Deals announced in the period (or after `since`, the previous brief's date, through the period's end), newest first."""
    first = pd.Timestamp(period.start) if since is None else pd.Timestamp(since) + pd.Timedelta(days=1)
    shown = deals[(deals["date"] >= first) & (deals["date"] <= pd.Timestamp(period.end))]
    return shown.sort_values(["date", "ticker"], ascending=[False, True], kind="stable").reset_index(drop=True)
