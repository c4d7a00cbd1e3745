"""The mining brief's public sources: `briefgen fetch network` and `briefgen fetch equities` (commands.py).

    plan = plan_network_refresh(Path("inputs"), "coinmetrics")   # network.py: fetch, check, merge in memory
    print(describe(plan))                                         # briefgen.fetch: new days, changes
    backup = apply_plan(plan)                                     # back up, then replace network.csv

Modules: coinmetrics and mempool (one per network source), sec and stooq (share counts, closes),
network and equities (the request -> plan, by the generic plumbing in briefgen.fetch), commands
(the CLI's subcommands).
"""
