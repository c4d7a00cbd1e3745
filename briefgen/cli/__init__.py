"""Turn command lines into calls of the briefgen library, and its errors into clean messages.

One module per area registers its commands on `main`: build.py (build, check, metrics, watch),
history.py (history, diff, batch), distribute.py, fetch.py, init.py (init), serve.py (serve), trace.py,
publish.py (publish, recall, audit).

Click only parses, calls one library function and prints. Heavy imports (pandas, matplotlib,
WeasyPrint) happen inside the commands, so `briefgen --help` is instant.
"""

from briefgen.cli import build, distribute, fetch, history, init, publish, serve, trace  # noqa: F401 (they register)
from briefgen.cli.main import FAST_EXIT_VARIABLE, fast_exit_allowed, long_running, main, run

__all__ = ["FAST_EXIT_VARIABLE", "fast_exit_allowed", "long_running", "main", "run"]
