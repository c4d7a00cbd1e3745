#!/usr/bin/env python3
"""Write briefgen's illustrative sample inputs: a deterministic, offline generator.

    python scripts/make_sample_inputs.py inputs        # or: make inputs

The sample mirrors the mid-January 2026 "Bitcoin mining" note summarised in ../shared/seeds and
DOMAIN.md. It is ILLUSTRATIVE: the daily series are synthetic, shaped to follow the public record
and calibrated so that the brief's headline figures come out as in the note. It reads nothing
(no network, no ../shared/data) and uses seeded numpy generators only, so a rerun writes
byte-identical files. Each output file has its own builder (or constant table) below.

Files written (the input contract; CSV is UTF-8, comma separated, ISO dates, plain numbers)
----------------------------------------------------------------------------------------
brief.yaml           as_of, period (1-14 Jan 2026), compare (18-31 Dec 2025), assumptions
                     (power $0.04/kWh, fleet 22 J/TH), two fictional analysts, the fictional house.
                     No `title`: the brief drafts its own headline.
network.csv          date,btc_price_usd,hashrate_ehs,blocks,fees_btc,difficulty; one row per UTC
                     day 2024-04-01 .. 2026-01-15.
miners.csv           ticker,name,exchange,from,to; 14 members on 2026-01-15 plus two former ones.
miner_hashrate.csv   date,ticker,hashrate_ehs; month-ends 2024-04-30 .. 2025-12-31 for each member,
                     plus a mid-month update dated 2026-01-14.
market_caps.csv      date,ticker,market_cap_usd; US trading days 2025-06-02 .. 2026-01-14.
deals.csv            date,ticker,kind,counterparty,value_usd,capacity_mw,description.
commentary/outlook.md  the desk's outlook paragraphs.

How the network series is built (network.csv)
---------------------------------------------
1. A latent "true" hashrate: a log-linear path through half-monthly levels (HASHRATE_KNOTS, shaped
   like the public record: the Oct-2025 peak comes late in the month, which is what puts the
   difficulty all-time high of ~157T at the end of October) times a small AR(1) wobble.
2. Blocks ~ Poisson(144 x latent / implied), implied = difficulty x 2^32 / 600 / 1e18 EH/s. The
   Poisson draw is an inverse CDF of one fixed uniform per day, so a larger latent can only mean as
   many blocks or more; that is what lets step 4 calibrate.
3. Difficulty is a step function. Before the halving it takes the two historical values in force
   (83.13T, then 86.39T from the retarget at height 838,656 on 2024-04-10). Heights count from block
   840,000, the first block of 2024-04-20, backwards and forwards. When a day's blocks include a
   multiple of 2,016 the next difficulty is old x (2,016 x 600 s / actual time of the last 2,016
   blocks), clamped to [1/4, 4], in force from the next UTC day. Blocks within a day are spread
   evenly to time them; difficulty is written as an integer. The reported hashrate is Coin Metrics' way: difficulty x 2^32 x blocks /
   86,400 / 1e18, so it is noisy day to day (about +/-8%) and exactly consistent with the columns.
4. Calibration: one multiplier per segment (each calendar month to Nov 2025, then 1-17 Dec,
   18-31 Dec, 1-14 Jan), solved in time order by bisection so the *reported* segment mean hits
   MONTHLY_HASHRATE_EHS and the December/period constants. Those are the public monthly means (631 EH/s Aug-24, 810 Feb-25, 816 Mar-25,
   897 May-25, 1,082 Oct-25 as the peak month; the rest near the Coin Metrics record), 1,078 for Nov
   and 1,048 for Dec (-2.8% m/m; the note says 1,045 and -3%), split 1,052 / 1,043 between early and
   late December, and 1-14 Jan exactly 2.0% below 18-31 Dec.
5. Fees: a fee-per-block level (FEE_KNOTS: the April 2024 halving/Runes spike, then ~0.1 BTC in
   late 2024 falling to ~0.02 in late 2025) times lognormal daily noise, times the day's blocks.
6. Price: a log-linear path through dated levels (PRICE_KNOTS, the 2024-25 record rounded to $500:
   ~$60-70k mid-2024, ~$100k around the turn of 2025, $110-120k mid-2025, ~$125k on 6 Oct 2025,
   then down into the high $80ks), times an AR(1) wobble. The last three windows are then solved
   exactly: a half-sine bump (zero on each window's first and last day, so the path stays
   continuous) is added to 1-17 Dec, 18-31 Dec and 1-14 Jan so that their means give the targets
   below. 14 and 15 Jan are pinned at $87,960 and $86,740, inside the $83,850-$88,030 quoted, and
   31 Dec at $86,400 (so year-end market cap is ~110% of the 4-year block-reward opportunity, near
   the note's 107%, and bitcoin is up ~2% from year-end to 14 Jan).

The economics, worked out before generating (DOMAIN.md's window convention)
---------------------------------------------------------------------------
revenue per EH/s (window) = 144 x (3.125 + sum F / sum B) x mean(P) / mean(H);
power cost = 24 h x 22 J/TH x $40/MWh = $21,120 per EH/s per day; margin = 1 - 21,120 / revenue.

* Period (1-14 Jan) margin 47.3%      -> revenue $40,076.
* Hashprice +11.0% vs 18-31 Dec        -> compare revenue $36,104 (margin 41.5%).
* December (month) margin 44.5%        -> revenue $38,054 (period is +280 bp on December).
The mean price of each window then follows from its realised hashrate and fees:
about $90.4k (1-14 Jan), $83.2k (18-31 Dec) and $92.1k (1-17 Dec), so December averages ~$88.1k.
Late December is weaker than December as a whole because of a price dip (the note's "hashprice up
11% from late December"), and the period's price is ~8.6% above late December: with hashrate -2%,
an 11% hashprice gain needs that much. Trade-off: at 22 J/TH the published December revenue of
$38,700 would be a 45.4% margin, leaving only ~170 bp to the note's 47%; the sample keeps the
note's 47% and ~300 bp, so its December revenue is ~$38,050 (1.7% below $38,700) and its
December mean price ~$88,100 (0.9% below $88,950).

Listed miners (miners.csv, miner_hashrate.csv)
----------------------------------------------
The 12 tickers the note names plus Galaxy Digital (GLXY, listed on Nasdaq 2025-05-16; the Helios
approval in deals.csv is its news) and HIVE Digital. Argo (ARBK, to 2024-10-25) and Stronghold
(SDIG, to 2025-03-14, acquired by Bitfarms) are former members; Cango (CANG) joins on 2024-11-01.
`to` is the last tracked day, inclusive; no `from`/`to` falls on a month-end, so no value's
membership is ambiguous. Hashrates are linear between per-ticker knots (MINER_KNOTS: rounded to
public scale, e.g. MARA ~61, CLSK/IREN/CANG ~50, BTDR ~51 and growing fastest) with +/-0.4%
noise, except on 2025-11-30 and 2026-01-14 (MINER_EXACT), which carry the headline figures. On 2026-01-14 the 14 sum to 419.2 EH/s = 41.0% of the 1-14 Jan mean network
hashrate, a record; at 2025-11-30 (the last value on or before 18 Dec) they sum to 407.2, so
12.0 EH/s were added, led by BTDR (+5.6) and RIOT (+3.2).

Equities (market_caps.csv)
--------------------------
Per ticker, log-linear between dated levels (CAP_KNOTS, $bn: June 2025, late August, the mid-
October peak of the AI/HPC re-rating, mid-November), then the year-end and 14 Jan levels, plus a
Brownian bridge (zero at each knot) for daily moves; the pre-year-end knots get a 3% lognormal
jitter so that no close is a round number. The 14 Jan levels are scaled to sum to
exactly $62.0bn and the 31 Dec levels to $49.0bn (+$13.0bn); the per-ticker changes differ
(WULF, CIFR, BTDR, RIOT lead; CANG and GREE lag bitcoin's +1.8%). Trading days skip weekends and the
NYSE holidays in range (US_HOLIDAYS).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

# --- constants -------------------------------------------------------------------------------

# One seed; each component draws from its own child stream (see _rng). Among seeds 20260115-44 this
# one puts the difficulty nearest the public record (~157T on 29 Oct 2025, ~148T in late December)
# with no retarget above 10%.
SEED = 20260121

FIRST_DAY = date(2024, 4, 1)
LAST_DAY = date(2026, 1, 15)
AS_OF = date(2026, 1, 15)
PERIOD = (date(2026, 1, 1), date(2026, 1, 14), "first two weeks of January")
COMPARE = (date(2025, 12, 18), date(2025, 12, 31), "late December")
DECEMBER = (date(2025, 12, 1), date(2025, 12, 31))
EARLY_DECEMBER = (date(2025, 12, 1), date(2025, 12, 17))

HOUSE = "Northgate Securities"
ANALYSTS = (
    ("Dana Whitfield", "dana.whitfield@northgate-securities.example", "+1 212 555 0142"),
    ("Marcus Oyelaran", "marcus.oyelaran@northgate-securities.example", "+1 212 555 0178"),
)
POWER_PRICE_USD_PER_KWH = 0.04
FLEET_EFFICIENCY_J_PER_TH = 22.0

# Bitcoin.
TWO_32 = 2.0**32
BLOCKS_PER_DAY = 144
RETARGET_INTERVAL = 2_016
EXPECTED_EPOCH_SECONDS = RETARGET_INTERVAL * 600
HALVING_DAY = date(2024, 4, 20)
HALVING_HEIGHT = 840_000  # the first block mined on HALVING_DAY
SUBSIDY_BTC = 3.125
PRE_HALVING_DIFFICULTY = ((date(2024, 4, 1), 83_126_997_504_685), (date(2024, 4, 10), 86_388_558_925_000))
PRE_HALVING_EPOCH_START = 838_656  # 416 x 2,016: the epoch the halving falls in began here

# Latent hashrate shape, EH/s, on the 8th and 23rd of each month (the calibration sets the level).
# A smoothed reading of the public half-month means: those already contain block luck, which the
# Poisson draw adds back, so the latent path must be smoother than the record it imitates.
HASHRATE_KNOTS = (
    ("2024-04-08", 624), ("2024-04-23", 620), ("2024-05-08", 605), ("2024-05-23", 598),
    ("2024-06-08", 585), ("2024-06-23", 578), ("2024-07-08", 595), ("2024-07-23", 625),
    ("2024-08-08", 630), ("2024-08-23", 635), ("2024-09-08", 640), ("2024-09-23", 642),
    ("2024-10-08", 680), ("2024-10-23", 720), ("2024-11-08", 725), ("2024-11-23", 740),
    ("2024-12-08", 770), ("2024-12-23", 785), ("2025-01-08", 785), ("2025-01-23", 780),
    ("2025-02-08", 800), ("2025-02-23", 812), ("2025-03-08", 812), ("2025-03-23", 825),
    ("2025-04-08", 855), ("2025-04-23", 870), ("2025-05-08", 885), ("2025-05-23", 905),
    ("2025-06-08", 880), ("2025-06-23", 860), ("2025-07-08", 890), ("2025-07-23", 905),
    ("2025-08-08", 930), ("2025-08-23", 965), ("2025-09-08", 1010), ("2025-09-23", 1055),
    ("2025-10-08", 1049), ("2025-10-23", 1118), ("2025-11-08", 1089), ("2025-11-23", 1073),
    ("2025-12-08", 1052), ("2025-12-23", 1043), ("2026-01-07", 1022), ("2026-01-15", 1015),
)
HASHRATE_WOBBLE = (0.7, 0.012)  # AR(1) phi and daily sigma of log latent hashrate

# Reported (difficulty x blocks) mean hashrate per segment, EH/s.
MONTHLY_HASHRATE_EHS = {
    (2024, 4): 625, (2024, 5): 599, (2024, 6): 580, (2024, 7): 615, (2024, 8): 631, (2024, 9): 641,
    (2024, 10): 704, (2024, 11): 731, (2024, 12): 779, (2025, 1): 781, (2025, 2): 810, (2025, 3): 816,
    (2025, 4): 870, (2025, 5): 897, (2025, 6): 868, (2025, 7): 902, (2025, 8): 949, (2025, 9): 1035,
    (2025, 10): 1082, (2025, 11): 1078,
}
DECEMBER_HASHRATE_EHS = 1048.0
COMPARE_HASHRATE_EHS = 1042.9
PERIOD_HASHRATE_CHANGE = -0.020

# Economics targets (see the docstring for the arithmetic).
POWER_COST_USD_PER_EH_DAY = 24 * FLEET_EFFICIENCY_J_PER_TH * POWER_PRICE_USD_PER_KWH * 1000  # 21,120
PERIOD_MARGIN = 0.473
DECEMBER_MARGIN = 0.445
HASHPRICE_CHANGE = 0.110

# Fee per block (BTC): dated levels, log-linear between them, times lognormal noise.
FEE_KNOTS = (
    ("2024-04-01", 0.20), ("2024-04-12", 0.60), ("2024-04-19", 1.10), ("2024-04-25", 0.70),
    ("2024-04-30", 0.32), ("2024-05-15", 0.22), ("2024-06-15", 0.30), ("2024-07-15", 0.085),
    ("2024-08-15", 0.078), ("2024-09-15", 0.055), ("2024-10-15", 0.14), ("2024-11-15", 0.10),
    ("2024-12-15", 0.087), ("2025-01-15", 0.046), ("2025-02-15", 0.043), ("2025-03-15", 0.039),
    ("2025-04-15", 0.042), ("2025-05-15", 0.042), ("2025-06-15", 0.034), ("2025-07-15", 0.031),
    ("2025-08-15", 0.025), ("2025-09-15", 0.027), ("2025-10-15", 0.022), ("2025-11-15", 0.021),
    ("2025-12-15", 0.018), ("2026-01-08", 0.024), ("2026-01-15", 0.024),
)
FEE_NOISE_SIGMA = 0.22
# The halving day's inscription/Runes rush, BTC per block, replacing the level on those days.
FEE_OVERRIDES = {"2024-04-20": 9.3, "2024-04-21": 2.4, "2024-04-22": 1.7, "2024-04-23": 2.65, "2024-04-24": 1.6}

# BTC price, USD: dated levels (the public record rounded to $500; designed levels from December 2025).
PRICE_KNOTS = (
    ("2024-04-01", 70000), ("2024-04-11", 70000), ("2024-04-21", 65000), ("2024-05-01", 58000),
    ("2024-05-11", 61000), ("2024-05-21", 70000), ("2024-06-01", 67500), ("2024-06-11", 67500),
    ("2024-06-21", 64000), ("2024-07-01", 63000), ("2024-07-11", 57500), ("2024-07-21", 68000),
    ("2024-08-01", 65000), ("2024-08-05", 54500), ("2024-08-11", 59000), ("2024-08-21", 61000),
    ("2024-09-01", 57500), ("2024-09-06", 54000), ("2024-09-11", 57500), ("2024-09-21", 63500),
    ("2024-10-01", 61000), ("2024-10-11", 62500), ("2024-10-21", 67500), ("2024-11-01", 69500),
    ("2024-11-11", 89000), ("2024-11-21", 98500), ("2024-12-01", 97500), ("2024-12-11", 101500),
    ("2024-12-21", 97000), ("2025-01-01", 94500), ("2025-01-11", 94500), ("2025-01-20", 102500),
    ("2025-01-21", 106000), ("2025-02-01", 100500), ("2025-02-11", 96000), ("2025-02-21", 96000),
    ("2025-03-01", 86000), ("2025-03-10", 79000), ("2025-03-21", 84000), ("2025-04-01", 85000),
    ("2025-04-08", 76500), ("2025-04-21", 87500), ("2025-05-01", 96500), ("2025-05-11", 104000),
    ("2025-05-22", 111500), ("2025-06-01", 106000), ("2025-06-11", 108500), ("2025-06-21", 101500),
    ("2025-07-01", 105500), ("2025-07-14", 120000), ("2025-07-21", 117500), ("2025-08-01", 113500),
    ("2025-08-13", 123500), ("2025-08-21", 112500), ("2025-09-01", 109000), ("2025-09-11", 115500),
    ("2025-09-21", 115500), ("2025-10-01", 118500), ("2025-10-06", 125000), ("2025-10-11", 111000),
    ("2025-10-21", 108500), ("2025-11-01", 110000), ("2025-11-11", 103000), ("2025-11-21", 85000),
    ("2025-12-01", 88500), ("2025-12-03", 93500), ("2025-12-11", 93000), ("2025-12-16", 91000),
    ("2025-12-18", 87000), ("2025-12-23", 82000), ("2025-12-27", 81500), ("2025-12-31", 86400),
    ("2026-01-01", 86000), ("2026-01-06", 93500), ("2026-01-09", 94000), ("2026-01-12", 91500),
    ("2026-01-14", 87960), ("2026-01-15", 86740),
)
PRICE_WOBBLE = (0.8, 0.016)  # AR(1) phi and daily sigma of log price around the knots
PRICE_PINNED = {"2025-12-31": 86400.00, "2026-01-14": 87960.00, "2026-01-15": 86740.00}

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
    "MARA": (("2024-04-30", 25.0), ("2024-12-31", 50.0), ("2025-06-30", 55.0), ("2025-09-30", 59.5),
             ("2025-11-30", 60.4), ("2025-12-31", 60.8), ("2026-01-14", 61.2)),
    "RIOT": (("2024-04-30", 21.0), ("2024-12-31", 31.0), ("2025-06-30", 33.5), ("2025-09-30", 34.5),
             ("2025-11-30", 35.0), ("2025-12-31", 36.6), ("2026-01-14", 38.2)),
    "CLSK": (("2024-04-30", 15.0), ("2024-12-31", 36.0), ("2025-06-30", 45.0), ("2025-09-30", 50.0),
             ("2025-11-30", 50.0), ("2025-12-31", 50.1), ("2026-01-14", 50.2)),
    "IREN": (("2024-04-30", 9.5), ("2024-12-31", 27.0), ("2025-06-30", 42.0), ("2025-09-30", 50.0),
             ("2025-11-30", 50.0), ("2025-12-31", 50.0), ("2026-01-14", 50.0)),
    "CIFR": (("2024-04-30", 8.0), ("2024-12-31", 12.5), ("2025-06-30", 16.5), ("2025-09-30", 20.5),
             ("2025-11-30", 22.6), ("2025-12-31", 22.9), ("2026-01-14", 23.1)),
    "CORZ": (("2024-04-30", 16.5), ("2024-12-31", 18.5), ("2025-06-30", 19.5), ("2025-11-30", 20.4),
             ("2025-12-31", 20.4), ("2026-01-14", 20.4)),
    "HUT": (("2024-04-30", 5.5), ("2024-12-31", 5.5), ("2025-06-30", 8.5), ("2025-09-30", 11.5),
            ("2025-11-30", 12.6), ("2025-12-31", 12.8), ("2026-01-14", 13.0)),
    "BTDR": (("2024-04-30", 7.0), ("2024-12-31", 10.5), ("2025-06-30", 18.0), ("2025-09-30", 33.0),
             ("2025-11-30", 45.0), ("2025-12-31", 48.2), ("2026-01-14", 50.6)),
    "BITF": (("2024-04-30", 6.4), ("2024-12-31", 12.0), ("2025-03-31", 17.5), ("2025-06-30", 18.5),
             ("2025-11-30", 19.5), ("2025-12-31", 19.3), ("2026-01-14", 19.0)),
    "WULF": (("2024-04-30", 7.5), ("2024-12-31", 11.5), ("2025-06-30", 12.5), ("2025-11-30", 12.8),
             ("2025-12-31", 12.8), ("2026-01-14", 12.8)),
    "CANG": (("2024-11-30", 32.0), ("2025-06-30", 42.0), ("2025-09-30", 50.0), ("2025-11-30", 50.0),
             ("2025-12-31", 50.2), ("2026-01-14", 50.4)),
    "GREE": (("2024-04-30", 2.6), ("2025-06-30", 2.4), ("2025-11-30", 2.4), ("2025-12-31", 2.35),
             ("2026-01-14", 2.3)),
    "GLXY": (("2025-05-31", 3.0), ("2025-11-30", 3.5), ("2025-12-31", 3.5), ("2026-01-14", 3.5)),
    "HIVE": (("2024-04-30", 5.0), ("2024-12-31", 5.6), ("2025-06-30", 10.5), ("2025-09-30", 19.0),
             ("2025-11-30", 23.0), ("2025-12-31", 23.8), ("2026-01-14", 24.5)),
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
    ("2025-12-17", "HUT", "hpc_lease", "Fluidstack", 7000000000, 245,
     "15-year AI data-centre lease at the River Bend campus, Louisiana; 245 MW of IT capacity"),
    ("2026-01-06", "BTDR", "capacity", "", "", "",
     "Self-mining hashrate passes 50 EH/s as SEALMINER rigs are energised"),
    ("2026-01-08", "RIOT", "land", "", 96000000, "",
     "Acquires about 200 acres at Rockdale, Texas, for $96M to extend the data-centre campus"),
    ("2026-01-09", "GLXY", "power_approval", "ERCOT", "", 830,
     "ERCOT approves 830 MW more at the Helios campus; more than 1.6 GW approved in all"),
    ("2026-01-13", "RIOT", "hpc_lease", "AMD", 311000000, 25,
     "Data-centre lease with AMD at Rockdale: 25 MW, at least $311M over 10 years, up to about $1B with extensions"),
    ("2026-01-13", "RIOT", "capacity", "", "", "",
     "Hashrate rises to about 38 EH/s after Corsicana and Rockdale deployments"),
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


# --- helpers ---------------------------------------------------------------------------------


def _rng(stream: int) -> np.random.Generator:
    """A child generator per component, so changing one component never shifts another's draws."""
    return np.random.default_rng([SEED, stream])


def _d(text: str) -> date:
    return date.fromisoformat(text)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def interp_knots(days: list[date], knots, log: bool = False) -> np.ndarray:
    """Interpolate dated knots onto days (linear, or log-linear); flat beyond the first/last knot."""
    x = np.array([_d(k).toordinal() for k, _ in knots], dtype=float)
    y = np.array([v for _, v in knots], dtype=float)
    t = np.array([d.toordinal() for d in days], dtype=float)
    if log:
        return np.exp(np.interp(t, x, np.log(y)))
    return np.interp(t, x, y)


def ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """A stationary AR(1) path (mean 0, innovation sigma), started from its stationary law."""
    shocks = rng.standard_normal(n) * sigma
    out = np.empty(n)
    out[0] = shocks[0] / math.sqrt(1 - phi * phi)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


_K = np.arange(0, 600, dtype=float)
_LOG_K_FACTORIAL = np.array([math.lgamma(k + 1) for k in range(600)])


def poisson_ppf(u: float, lam: float) -> int:
    """The smallest k with P(Poisson(lam) <= k) >= u: monotone in lam for a fixed u."""
    cdf = np.cumsum(np.exp(_K * math.log(lam) - lam - _LOG_K_FACTORIAL))
    return int(np.searchsorted(cdf, u, side="left"))


def implied_ehs(difficulty: float) -> float:
    return difficulty * TWO_32 / 600 / 1e18


def reported_ehs(difficulty: int, blocks: int) -> float:
    """Coin Metrics' hashrate: the difficulty in force times the day's blocks."""
    return round(difficulty * TWO_32 * blocks / 86_400 / 1e18, 3)


# --- network.csv: the chain ------------------------------------------------------------------


@dataclass
class Chain:
    """The chain simulated day by day: blocks and difficulty so far, height and retarget state."""

    blocks: list[int] = field(default_factory=list)
    difficulty: list[int] = field(default_factory=list)
    height: int | None = None  # height of the next day's first block (None before the halving day)
    current: int = PRE_HALVING_DIFFICULTY[-1][1]
    epoch_start_s: float = 0.0  # seconds from FIRST_DAY 00:00 UTC to the current epoch's first block

    def copy(self) -> Chain:
        return Chain(list(self.blocks), list(self.difficulty), self.height, self.current, self.epoch_start_s)

    def _anchor_heights(self, i: int) -> None:
        """On the halving day: count heights back from block 840,000 and time the epoch's first block."""
        start = HALVING_HEIGHT
        for k in range(i - 1, -1, -1):
            start -= self.blocks[k]
            if start <= PRE_HALVING_EPOCH_START < start + self.blocks[k]:
                self.epoch_start_s = k * 86_400 + (PRE_HALVING_EPOCH_START - start + 0.5) * 86_400 / self.blocks[k]
                break
        else:
            raise AssertionError("the pre-halving epoch starts before the first day")
        self.height = HALVING_HEIGHT

    def step(self, i: int, latent_ehs: float, u: float) -> None:
        day = FIRST_DAY + timedelta(days=i)
        if day < HALVING_DAY:
            difficulty = [d for start, d in PRE_HALVING_DIFFICULTY if day >= start][-1]
        else:
            if self.height is None:
                self._anchor_heights(i)
            difficulty = self.current
        blocks = poisson_ppf(u, BLOCKS_PER_DAY * latent_ehs / implied_ehs(difficulty))
        self.blocks.append(blocks)
        self.difficulty.append(difficulty)
        if self.height is None:
            return
        first, self.height = self.height, self.height + blocks
        boundary = (self.height - 1) // RETARGET_INTERVAL * RETARGET_INTERVAL
        if boundary >= first:  # a multiple of 2,016 was mined today: retarget from tomorrow
            mined_s = i * 86_400 + (boundary - first + 0.5) * 86_400 / blocks
            ratio = EXPECTED_EPOCH_SECONDS / (mined_s - self.epoch_start_s)
            self.current = int(round(self.current * min(4.0, max(0.25, ratio))))
            self.epoch_start_s = mined_s

    def reported_mean(self, idx: range) -> float:
        return float(np.mean([reported_ehs(self.difficulty[i], self.blocks[i]) for i in idx]))


@dataclass(frozen=True)
class Segment:
    first: int  # day index
    last: int
    target_ehs: float | None


def hashrate_segments(days: list[date]) -> list[Segment]:
    """Calendar months to Nov 2025, then early/late December and the period, then the rest."""
    index = {d: i for i, d in enumerate(days)}
    out = []
    for (year, month), target in MONTHLY_HASHRATE_EHS.items():
        first = date(year, month, 1)
        last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
        out.append(Segment(index[max(first, FIRST_DAY)], index[last], float(target)))
    early = (DECEMBER_HASHRATE_EHS * 31 - COMPARE_HASHRATE_EHS * 14) / 17
    period = COMPARE_HASHRATE_EHS * (1 + PERIOD_HASHRATE_CHANGE)
    out.append(Segment(index[EARLY_DECEMBER[0]], index[EARLY_DECEMBER[1]], early))
    out.append(Segment(index[COMPARE[0]], index[COMPARE[1]], COMPARE_HASHRATE_EHS))
    out.append(Segment(index[PERIOD[0]], index[PERIOD[1]], period))
    if index[PERIOD[1]] < len(days) - 1:
        out.append(Segment(index[PERIOD[1]] + 1, len(days) - 1, None))
    return out


def simulate_chain(days: list[date]) -> Chain:
    """Steps 1-4 of the docstring: latent hashrate, Poisson blocks, retargets, calibrated segments."""
    n = len(days)
    latent = interp_knots(days, HASHRATE_KNOTS, log=True) * np.exp(ar1(_rng(1), n, *HASHRATE_WOBBLE))
    uniforms = _rng(2).random(n)
    chain = Chain()
    multiplier = 1.0
    for seg in hashrate_segments(days):
        idx = range(seg.first, seg.last + 1)

        def run(m: float, base: Chain = chain, idx: range = idx) -> Chain:
            trial = base.copy()
            for i in idx:
                trial.step(i, latent[i] * m, uniforms[i])
            return trial

        if seg.target_ehs is None:
            chain = run(multiplier)
            continue
        lo, hi, best = 0.6, 1.6, None
        for _ in range(48):
            mid = (lo + hi) / 2
            trial = run(mid)
            error = trial.reported_mean(idx) - seg.target_ehs
            if best is None or abs(error) < best[0]:
                best = (abs(error), mid, trial)
            if error < 0:
                lo = mid
            else:
                hi = mid
        _, multiplier, chain = best
    return chain


def fee_per_block(days: list[date]) -> np.ndarray:
    level = interp_knots(days, FEE_KNOTS, log=True)
    noise = np.exp(_rng(3).standard_normal(len(days)) * FEE_NOISE_SIGMA - FEE_NOISE_SIGMA**2 / 2)
    out = level * noise
    for text, value in FEE_OVERRIDES.items():
        out[days.index(_d(text))] = value
    return out


def _window(days: list[date], first: date, last: date) -> np.ndarray:
    return np.array([first <= d <= last for d in days])


def price_targets(days: list[date], hashrate: np.ndarray, blocks: np.ndarray, fees: np.ndarray) -> dict:
    """Mean price each solved window needs, from its realised hashrate and fees (DOMAIN.md convention)."""

    def need(first: date, last: date, revenue: float) -> float:
        w = _window(days, first, last)
        fee_per_block_btc = fees[w].sum() / blocks[w].sum()
        return revenue * hashrate[w].mean() / (BLOCKS_PER_DAY * (SUBSIDY_BTC + fee_per_block_btc))

    period_rev = POWER_COST_USD_PER_EH_DAY / (1 - PERIOD_MARGIN)
    compare_rev = period_rev / (1 + HASHPRICE_CHANGE)
    december_rev = POWER_COST_USD_PER_EH_DAY / (1 - DECEMBER_MARGIN)
    period = need(PERIOD[0], PERIOD[1], period_rev)
    compare = need(COMPARE[0], COMPARE[1], compare_rev)
    december = need(DECEMBER[0], DECEMBER[1], december_rev)
    early_days = _window(days, *EARLY_DECEMBER).sum()
    compare_days = _window(days, COMPARE[0], COMPARE[1]).sum()
    early = (december * (early_days + compare_days) - compare * compare_days) / early_days
    return {EARLY_DECEMBER: early, (COMPARE[0], COMPARE[1]): compare, (PERIOD[0], PERIOD[1]): period}


def price_path(days: list[date], targets: dict) -> np.ndarray:
    """Step 6: knots x AR(1) wobble, pinned mid-January quotes, half-sine bumps to hit window means."""
    price = interp_knots(days, PRICE_KNOTS, log=True) * np.exp(ar1(_rng(4), len(days), *PRICE_WOBBLE))
    for text, value in PRICE_PINNED.items():
        price[days.index(_d(text))] = value
    for (first, last), mean in targets.items():
        idx = np.flatnonzero(_window(days, first, last))
        bump = np.sin(np.pi * np.arange(len(idx)) / (len(idx) - 1))
        price[idx] += (mean * len(idx) - price[idx].sum()) / bump.sum() * bump
    return np.round(price, 2)


def build_network() -> list[tuple]:
    days = days_between(FIRST_DAY, LAST_DAY)
    chain = simulate_chain(days)
    blocks = np.array(chain.blocks)
    hashrate = np.array([reported_ehs(d, b) for d, b in zip(chain.difficulty, chain.blocks)])
    fees = np.round(fee_per_block(days) * blocks, 8)
    price = price_path(days, price_targets(days, hashrate, blocks, fees))
    return [
        (d.isoformat(), f"{p:.2f}", f"{h:.3f}", str(b), f"{f:.8f}", str(diff))
        for d, p, h, b, f, diff in zip(days, price, hashrate, chain.blocks, fees, chain.difficulty)
    ]


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
    dates = month_ends(FIRST_MONTH_END, LAST_MONTH_END) + [MID_MONTH_UPDATE]
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
        values = [v * 1e9 * j for v, j in zip(knots, jitter)] + list(levels[ticker])
        ax = np.array([days.index(a) for a in anchors], dtype=float)
        walk = np.cumsum(rng.standard_normal(len(days)) * CAP_DAILY_SIGMA.get(ticker, CAP_DEFAULT_SIGMA))
        bridge = walk - np.interp(x, ax, walk[ax.astype(int)])  # zero at every anchor
        series[ticker] = np.exp(np.interp(x, ax, np.log(values)) + bridge)
    members = [m[0] for m in MINERS if is_member(m[0], CAP_LAST_DAY)]
    assert sorted(members) == sorted(CAP_KNOTS), "market caps must cover exactly the current members"
    return [
        (d.isoformat(), t, str(int(round(series[t][i]))))
        for i, d in enumerate(days)
        for t in members
    ]


# --- writers ---------------------------------------------------------------------------------


def write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_brief_yaml(path: Path) -> None:
    analysts = "".join(
        f'  - name: "{name}"\n    email: "{email}"\n    phone: "{phone}"\n' for name, email, phone in ANALYSTS
    )
    text = (
        "# Illustrative sample: written by scripts/make_sample_inputs.py (make inputs).\n"
        "# No `title`: the brief drafts its own headline from the figures.\n"
        f"as_of: {AS_OF.isoformat()}\n"
        "period:\n"
        f"  start: {PERIOD[0].isoformat()}\n  end: {PERIOD[1].isoformat()}\n  label: \"{PERIOD[2]}\"\n"
        "compare:\n"
        f"  start: {COMPARE[0].isoformat()}\n  end: {COMPARE[1].isoformat()}\n  label: \"{COMPARE[2]}\"\n"
        "assumptions:\n"
        f"  power_price_usd_per_kwh: {POWER_PRICE_USD_PER_KWH}\n"
        f"  fleet_efficiency_j_per_th: {FLEET_EFFICIENCY_J_PER_TH:g}\n"
        "analysts:\n"
        f"{analysts}"
        f'house: "{HOUSE}"\n'
    )
    path.write_text(text, encoding="utf-8", newline="\n")


def write_all(out: Path) -> list[Path]:
    """Write every sample file into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "commentary").mkdir(exist_ok=True)
    written = []

    def csv_file(name: str, header: tuple[str, ...], rows) -> None:
        write_csv(out / name, header, rows)
        written.append(out / name)

    write_brief_yaml(out / "brief.yaml")
    written.append(out / "brief.yaml")
    csv_file("network.csv", ("date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc", "difficulty"), build_network())
    csv_file("miners.csv", ("ticker", "name", "exchange", "from", "to"), MINERS)
    csv_file("miner_hashrate.csv", ("date", "ticker", "hashrate_ehs"), build_miner_hashrate())
    csv_file("market_caps.csv", ("date", "ticker", "market_cap_usd"), build_market_caps())
    csv_file("deals.csv", ("date", "ticker", "kind", "counterparty", "value_usd", "capacity_mw", "description"), DEALS)
    (out / "commentary" / "outlook.md").write_text(OUTLOOK_MD, encoding="utf-8", newline="\n")
    written.append(out / "commentary" / "outlook.md")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write briefgen's illustrative sample inputs (deterministic).")
    parser.add_argument("out", nargs="?", default="inputs", type=Path, help="folder to write (default: inputs)")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
