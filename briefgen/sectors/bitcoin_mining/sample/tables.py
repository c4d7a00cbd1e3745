"""Turn the sample's seed into its tables of miners, their hashrate, market caps and deals."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from briefgen.sectors.bitcoin_mining.sample.common import _d, _rng, days_between, interp_knots

# Tracked miners: ticker, name, exchange, from, to ("" while a member).
MINERS = (
    ("MARA", "MARA Holdings Inc.", "NASDAQ", "2024-01-01", ""),
    ("RIOT", "Riot Platforms Inc.", "NASDAQ", "2024-01-01", ""),
    ("CLSK", "CleanSpark Inc.", "NASDAQ", "2024-01-01", ""),
    ("CIFR", "Cipher Mining Inc.", "NASDAQ", "2024-01-01", ""),
    ("IREN", "IREN Limited", "NASDAQ", "2024-01-01", ""),
    ("CORZ", "Core Scientific Inc.", "NASDAQ", "2024-01-23", ""),
    ("HUT", "Hut 8 Corp.", "NASDAQ", "2024-01-01", ""),
    ("BTDR", "Bitdeer Technologies Group", "NASDAQ", "2024-01-01", ""),
    ("BITF", "Bitfarms Ltd.", "NASDAQ", "2024-01-01", ""),
    ("WULF", "TeraWulf Inc.", "NASDAQ", "2024-01-01", ""),
    ("CANG", "Cango Inc.", "NYSE", "2024-11-01", ""),
    ("GREE", "Greenidge Generation Holdings Inc.", "NASDAQ", "2024-01-01", ""),
    ("GLXY", "Galaxy Digital Inc.", "NASDAQ", "2025-05-16", ""),
    ("HIVE", "HIVE Digital Technologies Ltd.", "NASDAQ", "2024-01-01", ""),
    ("SDIG", "Stronghold Digital Mining Inc.", "NASDAQ", "2024-01-01", "2025-03-14"),
    ("ARBK", "Argo Blockchain plc", "NASDAQ", "2024-01-01", "2024-10-25"),
)
MID_MONTH_UPDATE = date(2026, 1, 14)
FIRST_MONTH_END = date(2024, 4, 30)
LAST_MONTH_END = date(2025, 12, 31)
# Self-mining hashrate, EH/s, at dated knots (linear between; flat outside).
MINER_KNOTS = {
    "MARA": (
        ("2024-04-30", 25.0),
        ("2024-12-31", 50.0),
        ("2025-06-30", 55.0),
        ("2025-09-30", 59.5),
        ("2025-11-30", 60.4),
        ("2025-12-31", 60.8),
        ("2026-01-14", 61.2),
    ),
    "RIOT": (
        ("2024-04-30", 21.0),
        ("2024-12-31", 31.0),
        ("2025-06-30", 33.5),
        ("2025-09-30", 34.5),
        ("2025-11-30", 35.0),
        ("2025-12-31", 36.6),
        ("2026-01-14", 38.2),
    ),
    "CLSK": (
        ("2024-04-30", 15.0),
        ("2024-12-31", 36.0),
        ("2025-06-30", 45.0),
        ("2025-09-30", 50.0),
        ("2025-11-30", 50.0),
        ("2025-12-31", 50.1),
        ("2026-01-14", 50.2),
    ),
    "IREN": (
        ("2024-04-30", 9.5),
        ("2024-12-31", 27.0),
        ("2025-06-30", 42.0),
        ("2025-09-30", 50.0),
        ("2025-11-30", 50.0),
        ("2025-12-31", 50.0),
        ("2026-01-14", 50.0),
    ),
    "CIFR": (
        ("2024-04-30", 8.0),
        ("2024-12-31", 12.5),
        ("2025-06-30", 16.5),
        ("2025-09-30", 20.5),
        ("2025-11-30", 22.6),
        ("2025-12-31", 22.9),
        ("2026-01-14", 23.1),
    ),
    "CORZ": (
        ("2024-04-30", 16.5),
        ("2024-12-31", 18.5),
        ("2025-06-30", 19.5),
        ("2025-11-30", 20.4),
        ("2025-12-31", 20.4),
        ("2026-01-14", 20.4),
    ),
    "HUT": (
        ("2024-04-30", 5.5),
        ("2024-12-31", 5.5),
        ("2025-06-30", 8.5),
        ("2025-09-30", 11.5),
        ("2025-11-30", 12.6),
        ("2025-12-31", 12.8),
        ("2026-01-14", 13.0),
    ),
    "BTDR": (
        ("2024-04-30", 7.0),
        ("2024-12-31", 10.5),
        ("2025-06-30", 18.0),
        ("2025-09-30", 33.0),
        ("2025-11-30", 45.0),
        ("2025-12-31", 48.2),
        ("2026-01-14", 50.6),
    ),
    "BITF": (
        ("2024-04-30", 6.4),
        ("2024-12-31", 12.0),
        ("2025-03-31", 17.5),
        ("2025-06-30", 18.5),
        ("2025-11-30", 19.5),
        ("2025-12-31", 19.3),
        ("2026-01-14", 19.0),
    ),
    "WULF": (
        ("2024-04-30", 7.5),
        ("2024-12-31", 11.5),
        ("2025-06-30", 12.5),
        ("2025-11-30", 12.8),
        ("2025-12-31", 12.8),
        ("2026-01-14", 12.8),
    ),
    "CANG": (
        ("2024-11-30", 32.0),
        ("2025-06-30", 42.0),
        ("2025-09-30", 50.0),
        ("2025-11-30", 50.0),
        ("2025-12-31", 50.2),
        ("2026-01-14", 50.4),
    ),
    "GREE": (("2024-04-30", 2.6), ("2025-06-30", 2.4), ("2025-11-30", 2.4), ("2025-12-31", 2.35), ("2026-01-14", 2.3)),
    "GLXY": (("2025-05-31", 3.0), ("2025-11-30", 3.5), ("2025-12-31", 3.5), ("2026-01-14", 3.5)),
    "HIVE": (
        ("2024-04-30", 5.0),
        ("2024-12-31", 5.6),
        ("2025-06-30", 10.5),
        ("2025-09-30", 19.0),
        ("2025-11-30", 23.0),
        ("2025-12-31", 23.8),
        ("2026-01-14", 24.5),
    ),
    "SDIG": (("2024-04-30", 3.5), ("2025-02-28", 4.2)),
    "ARBK": (("2024-04-30", 2.6), ("2024-09-30", 2.1)),
}
MINER_NOISE = 0.004
MINER_EXACT = ("2025-11-30", "2026-01-14")  # knots kept exact: they carry the capacity-added figures

# Market caps, $bn, at dated knots before year-end; then 14 Jan levels and the change from 31 Dec.
CAP_FIRST_DAY = date(2025, 6, 2)
CAP_LAST_DAY = date(2026, 1, 14)
YEAR_END = date(2025, 12, 31)
CAP_KNOT_DATES = ("2025-06-02", "2025-08-29", "2025-10-15", "2025-11-12")
CAP_KNOTS = {  # ticker: (levels on CAP_KNOT_DATES), 14 Jan level, change 31 Dec -> 14 Jan
    "IREN": ((2.3, 4.5, 16.5, 15.0), 13.0, 0.22),
    "GLXY": ((7.5, 9.5, 15.5, 11.0), 9.0, 0.18),
    "CIFR": ((1.5, 2.6, 7.0, 8.0), 6.6, 0.35),
    "RIOT": ((3.1, 4.6, 7.5, 6.0), 5.6, 0.31),
    "MARA": ((5.5, 5.8, 7.5, 5.5), 5.3, 0.25),
    "CORZ": ((3.6, 4.8, 6.2, 5.5), 5.2, 0.16),
    "WULF": ((1.5, 3.5, 6.5, 5.8), 5.0, 0.38),
    "HUT": ((1.8, 2.8, 5.0, 5.2), 5.0, 0.30),
    "CLSK": ((2.6, 2.8, 5.5, 4.0), 3.4, 0.27),
    "BTDR": ((2.4, 2.6, 4.6, 3.0), 2.5, 0.33),
    "BITF": ((0.6, 0.75, 1.6, 1.2), 0.95, 0.21),
    "HIVE": ((0.3, 0.45, 0.85, 0.8), 0.70, 0.03),
    "CANG": ((0.5, 0.65, 0.75, 0.65), 0.55, -0.02),
    "GREE": ((0.06, 0.07, 0.09, 0.08), 0.07, -0.06),
}
CAP_TOTAL_JAN14_USD = 62.0e9
CAP_TOTAL_YEAR_END_USD = 49.0e9
CAP_DAILY_SIGMA = {"GLXY": 0.030, "MARA": 0.035, "CORZ": 0.035}  # others 0.045
CAP_DEFAULT_SIGMA = 0.045
CAP_KNOT_JITTER = 0.03  # lognormal sigma on the pre-year-end knots, so no close is a round number
US_HOLIDAYS = ("2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25", "2026-01-01")

DEALS = (
    (
        "2025-12-17",
        "HUT",
        "hpc_lease",
        "Fluidstack",
        7000000000,
        245,
        "15-year AI data-centre lease at the River Bend campus, Louisiana; 245 MW of IT capacity",
    ),
    (
        "2026-01-06",
        "BTDR",
        "capacity",
        "",
        "",
        "",
        "Self-mining hashrate passes 50 EH/s as SEALMINER rigs are energised",
    ),
    (
        "2026-01-08",
        "RIOT",
        "land",
        "",
        96000000,
        "",
        "Acquires about 200 acres at Rockdale, Texas, for $96M to extend the data-centre campus",
    ),
    (
        "2026-01-09",
        "GLXY",
        "power_approval",
        "ERCOT",
        "",
        830,
        "ERCOT approves 830 MW more at the Helios campus; more than 1.6 GW approved in all",
    ),
    (
        "2026-01-13",
        "RIOT",
        "hpc_lease",
        "AMD",
        311000000,
        25,
        "Data-centre lease with AMD at Rockdale: 25 MW, at least $311M over 10 years, up to about $1B with extensions",
    ),
    (
        "2026-01-13",
        "RIOT",
        "capacity",
        "",
        "",
        "",
        "Hashrate rises to about 38 EH/s after Corsicana and Rockdale deployments",
    ),
)

OUTLOOK_MD = """\
# Outlook

- **Constructive, on two conditions.** The year opened with the relief miners needed: a steadier
  bitcoin price and a pause in network hashrate growth lifted hashprice and gross margins from their
  late-December lows. If bitcoin holds in the high $80,000s and hashrate growth normalises rather
  than resuming its 2025 pace, we think 2026 can be a more constructive year for the group.
- **Unit economics are still below last year.** Revenue per EH/s remains well under year-ago
  levels after the 2024 halving and a network that grew by about a third in 2025. Fleet efficiency,
  cheap power and capital discipline still separate the winners.
- **AI/HPC is the diversification story.** Riot's AMD lease at Rockdale and Galaxy's Helios power
  approvals show sites and grid connections being monetised outside block rewards. Contracted,
  dollar-denominated leases smooth earnings and improve financing terms; we favour operators that
  can convert megawatts to leases without starving their mining fleets.
- **Risks.** A renewed slide in bitcoin; a faster return of hashrate growth as new-generation rigs
  are delivered; execution and financing risk on data-centre builds; and summer power-price spikes
  in ERCOT.
"""


# --- miners.csv and miner_hashrate.csv --------------------------------------------------------


def is_member(ticker: str, day: date) -> bool:
    row = next(m for m in MINERS if m[0] == ticker)
    return _d(row[3]) <= day and (not row[4] or day <= _d(row[4]))


def month_ends(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(d)
        after = d + timedelta(days=1)  # the first of the next month
        d = date(after.year + after.month // 12, after.month % 12 + 1, 1) - timedelta(days=1)
    return out


def build_miner_hashrate() -> list[tuple]:
    dates = [*month_ends(FIRST_MONTH_END, LAST_MONTH_END), MID_MONTH_UPDATE]
    rng = _rng(5)
    rows = []
    for day in dates:
        for ticker, *_ in MINERS:
            knots = MINER_KNOTS[ticker]
            noise = rng.standard_normal()  # drawn for every pair, so the stream never depends on membership
            if not is_member(ticker, day):
                continue
            value = float(interp_knots([day], knots)[0])
            if day.isoformat() not in MINER_EXACT:
                value *= 1 + MINER_NOISE * noise
            rows.append((day.isoformat(), ticker, f"{value:.2f}"))
    return rows


# --- market_caps.csv -------------------------------------------------------------------------


def trading_days(first: date, last: date) -> list[date]:
    holidays = {_d(h) for h in US_HOLIDAYS}
    return [d for d in days_between(first, last) if d.weekday() < 5 and d not in holidays]


def cap_levels() -> dict[str, tuple[float, float]]:
    """Each ticker's 31 Dec and 14 Jan market cap (USD), scaled to the combined targets."""
    jan = {t: v[1] for t, v in CAP_KNOTS.items()}
    dec = {t: v[1] / (1 + v[2]) for t, v in CAP_KNOTS.items()}
    jan_scale = CAP_TOTAL_JAN14_USD / sum(jan.values())
    dec_scale = CAP_TOTAL_YEAR_END_USD / sum(dec.values())
    return {t: (dec[t] * dec_scale, jan[t] * jan_scale) for t in CAP_KNOTS}


def build_market_caps() -> list[tuple]:
    days = trading_days(CAP_FIRST_DAY, CAP_LAST_DAY)
    x = np.arange(len(days), dtype=float)
    levels = cap_levels()
    rng = _rng(6)
    series = {}
    for ticker, (knots, _, _) in CAP_KNOTS.items():
        anchors = [_d(k) for k in CAP_KNOT_DATES] + [YEAR_END, CAP_LAST_DAY]
        jitter = np.exp(rng.standard_normal(len(knots)) * CAP_KNOT_JITTER)
        values = [v * 1e9 * j for v, j in zip(knots, jitter, strict=True)] + list(levels[ticker])
        ax = np.array([days.index(a) for a in anchors], dtype=float)
        walk = np.cumsum(rng.standard_normal(len(days)) * CAP_DAILY_SIGMA.get(ticker, CAP_DEFAULT_SIGMA))
        bridge = walk - np.interp(x, ax, walk[ax.astype(int)])  # zero at every anchor
        series[ticker] = np.exp(np.interp(x, ax, np.log(values)) + bridge)
    members = [m[0] for m in MINERS if is_member(m[0], CAP_LAST_DAY)]
    assert sorted(members) == sorted(CAP_KNOTS), "market caps must cover exactly the current members"
    return [(d.isoformat(), t, str(round(series[t][i]))) for i, d in enumerate(days) for t in members]
