"""Turn nothing into briefgen's illustrative sample inputs: a deterministic, offline generator.

    briefgen init DIR        # or: python -m briefgen.sectors.bitcoin_mining.sample inputs (make inputs)

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
   evenly to time them; difficulty is written as an integer. The reported hashrate is Coin Metrics'
   way: difficulty x 2^32 x blocks / 86,400 / 1e18, so it is noisy day to day (about +/-8%) and
   exactly consistent with the columns.
4. Calibration: one multiplier per segment (each calendar month to Nov 2025, then 1-17 Dec,
   18-31 Dec, 1-14 Jan), solved in time order by bisection so the *reported* segment mean hits
   MONTHLY_HASHRATE_EHS and the December/period constants. Those are the public monthly means
   (631 EH/s Aug-24, 810 Feb-25, 816 Mar-25, 897 May-25, 1,082 Oct-25 as the peak month; the rest
   near the Coin Metrics record), 1,078 for Nov and 1,048 for Dec (-2.8% m/m; the note says 1,045
   and -3%), split 1,052 / 1,043 between early and late December, and 1-14 Jan exactly 2.0% below
   18-31 Dec.
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
noise, except on 2025-11-30 and 2026-01-14 (MINER_EXACT), which carry the headline figures. On
2026-01-14 the 14 sum to 419.2 EH/s = 41.0% of the 1-14 Jan mean network hashrate, a record; at
2025-11-30 (the last value on or before 18 Dec) they sum to 407.2, so 12.0 EH/s were added, led
by BTDR (+5.6) and RIOT (+3.2).

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

from pathlib import Path

from briefgen.init import csv_bytes
from briefgen.sectors.bitcoin_mining.sample.common import (
    ANALYSTS,
    AS_OF,
    COMPARE,
    FLEET_EFFICIENCY_J_PER_TH,
    HOUSE,
    PERIOD,
    POWER_PRICE_USD_PER_KWH,
)
from briefgen.sectors.bitcoin_mining.sample.network import build_network
from briefgen.sectors.bitcoin_mining.sample.tables import (
    DEALS,
    MINERS,
    OUTLOOK_MD,
    build_market_caps,
    build_miner_hashrate,
)

# --- writers ---------------------------------------------------------------------------------

HEADERS = {
    "network": ("date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc", "difficulty"),
    "miners": ("ticker", "name", "exchange", "from", "to"),
    "miner_hashrate": ("date", "ticker", "hashrate_ehs"),
    "market_caps": ("date", "ticker", "market_cap_usd"),
    "deals": ("date", "ticker", "kind", "counterparty", "value_usd", "capacity_mw", "description"),
}


def sample_tables() -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """Each table of the sample by name: its header and its rows, every cell as the CSV writes it."""
    rows = {
        "network": build_network(),
        "miners": list(MINERS),
        "miner_hashrate": build_miner_hashrate(),
        "market_caps": build_market_caps(),
        "deals": list(DEALS),
    }
    return {name: (HEADERS[name], rows[name]) for name in HEADERS}


def brief_yaml() -> str:
    analysts = "".join(
        f'  - name: "{name}"\n    email: "{email}"\n    phone: "{phone}"\n' for name, email, phone in ANALYSTS
    )
    return (
        "# Illustrative sample: written by scripts/make_sample_inputs.py (make inputs).\n"
        "# No `title`: the brief drafts its own headline from the figures.\n"
        f"as_of: {AS_OF.isoformat()}\n"
        "period:\n"
        f'  start: {PERIOD[0].isoformat()}\n  end: {PERIOD[1].isoformat()}\n  label: "{PERIOD[2]}"\n'
        "compare:\n"
        f'  start: {COMPARE[0].isoformat()}\n  end: {COMPARE[1].isoformat()}\n  label: "{COMPARE[2]}"\n'
        "assumptions:\n"
        f"  power_price_usd_per_kwh: {POWER_PRICE_USD_PER_KWH}\n"
        f"  fleet_efficiency_j_per_th: {FLEET_EFFICIENCY_J_PER_TH:g}\n"
        "analysts:\n"
        f"{analysts}"
        f'house: "{HOUSE}"\n'
    )


def sample_files(tables: bool = True) -> dict[str, bytes]:
    """Every file of the sample by its path in the inputs folder; without `tables`, brief.yaml and the commentary."""
    files = {"brief.yaml": brief_yaml().encode("utf-8")}
    if tables:
        files.update({f"{name}.csv": csv_bytes(*table) for name, table in sample_tables().items()})
    files["commentary/outlook.md"] = OUTLOOK_MD.encode("utf-8")
    return files


def write_all(out: Path) -> list[Path]:
    """Write (or rewrite: `make inputs`) every sample file into `out`; returns the paths written."""
    written = []
    for name, data in sample_files().items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
