"""Turn public data sources into rows of the inputs: the plumbing a sector's `briefgen fetch` commands use.

    plan = refresh(...)        # a sector's: fetch, check (rows), merge in memory (merge.plan_merge)
    print(describe(plan))      # new days, changes (old -> new)
    backup = apply_plan(plan)  # back up, then replace the file

Modules: http (GET with retries, pacing and a same-origin guard), deadline (the timer that ends a
request past its deadline), rows (source values -> checked cells of a Target table), merge (the
plan, and writing it). The sources, their Targets and the
commands are the sector's (e.g. briefgen/sectors/<sector>/fetch/); cli/fetch.py mounts the default
sector's commands (Sector.commands) on the `fetch` group. Only that group imports this package:
building a brief never touches the network.
"""

from __future__ import annotations

from briefgen.fetch.http import HttpPolicy
from briefgen.fetch.merge import OVERLAP_DAYS, RefreshPlan, RowChange, apply_plan, describe

__all__ = ["OVERLAP_DAYS", "HttpPolicy", "RefreshPlan", "RowChange", "apply_plan", "describe"]
