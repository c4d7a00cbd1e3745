"""Turn public data sources into rows of the inputs: `briefgen fetch network`, `briefgen fetch equities`.

    plan = plan_network_refresh(Path("inputs"), "coinmetrics")   # fetch, check, merge in memory
    print(describe(plan))                                         # new days, changes (old -> new)
    backup = apply_plan(plan)                                     # back up, then replace network.csv

Modules: http (GET with retries, pacing and a same-origin guard), coinmetrics and mempool (one per
network source), sec and stooq (share counts, closes), rows (source values -> checked cells of a
Target table), merge (the plan, and writing it), network and equities (the request -> plan; see
equities.plan_equities_refresh). Only the CLI's `fetch` group imports this package: building a
brief never touches the network.
"""

from __future__ import annotations

from briefgen.fetch.http import HttpPolicy
from briefgen.fetch.merge import OVERLAP_DAYS, RefreshPlan, RowChange, apply_plan, describe
from briefgen.sectors.bitcoin_mining.fetch.network import SOURCES, plan_network_refresh

__all__ = ["OVERLAP_DAYS", "SOURCES", "HttpPolicy", "RefreshPlan", "RowChange", "apply_plan", "describe",
           "plan_network_refresh"]
