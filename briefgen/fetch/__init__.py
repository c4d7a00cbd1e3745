"""Turn public data sources into rows of the inputs: `briefgen fetch network`.

    plan = plan_network_refresh(Path("inputs"), "coinmetrics")   # fetch, check, merge in memory
    print(describe(plan))                                         # new days, changes (old -> new)
    backup = apply_plan(plan)                                     # back up, then replace network.csv

Modules: http (JSON over GET with retries and a same-origin guard), coinmetrics and mempool (one
per source), rows (source values -> checked network.csv cells), merge (the plan, and writing it),
network (the request -> plan). Only the CLI's `fetch` group imports this package: building a
brief never touches the network.
"""

from __future__ import annotations

from briefgen.fetch.http import HttpPolicy
from briefgen.fetch.merge import RefreshPlan, RowChange, apply_plan, describe
from briefgen.fetch.network import OVERLAP_DAYS, SOURCES, plan_network_refresh

__all__ = ["OVERLAP_DAYS", "SOURCES", "HttpPolicy", "RefreshPlan", "RowChange", "apply_plan", "describe",
           "plan_network_refresh"]
