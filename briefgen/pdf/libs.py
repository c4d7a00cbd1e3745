"""Turn the import of WeasyPrint into one that finds its C libraries without running a compiler.

WeasyPrint's cffi bindings try several names for each library (libpango-1.0-0, pango-1.0-0, ...).
Each name that is not a file makes cffi call ctypes.util.find_library, which on Linux runs
`ldconfig -p` and then gcc and ld, once per name: about 0.3 s of subprocesses on every build.
While WeasyPrint is imported, find_library answers from one reading of `ldconfig -p` instead, with
the same rule (lib<name>.so*); where ldconfig is missing, the standard lookup is left in place.

Why a patch, and no supported way: WeasyPrint 70 (weasyprint/text/ffi.py, _dlopen) tries its
fixed list of names with cffi's ffi.dlopen(name), and cffi (api.py, _load_backend_lib) falls back to
ctypes.util.find_library for every name it cannot open as given. Neither library takes a path, a
search list or a hook on Linux (WEASYPRINT_DLL_DIRECTORIES feeds os.add_dll_directory, Windows
only), and ctypes.util.find_library itself always runs gcc and ld after ldconfig. So the public
function ctypes.util.find_library is replaced, only for the duration of the import (restored in
a finally, also when the import fails), with a lookup that gives ldconfig's answer. A thread calling
find_library during those milliseconds would get ldconfig's answer only (not gcc's or ld's).
"""

from __future__ import annotations

import ctypes.util
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _ldconfig_lookup() -> Callable[[str], str | None] | None:
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            listing = subprocess.run(
                [ldconfig, "-p"], capture_output=True, text=True, timeout=10, env={"LC_ALL": "C", "LANG": "C"}
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        sonames = sorted(set(re.findall(r"^\s+(\S+\.so[.\d]*)\s+\(", listing, re.M)))
        if sonames:
            break
    else:
        return None

    def find_library(name: str) -> str | None:
        pattern = re.compile(rf"lib{re.escape(name)}\.so(\.\d+)*")
        return next((soname for soname in sonames if pattern.fullmatch(soname)), None)

    return find_library


@contextmanager
def _fast_find_library() -> Iterator[None]:
    original = ctypes.util.find_library
    lookup = _ldconfig_lookup() if sys.platform.startswith("linux") else None
    if lookup is not None:
        # The replacement this module's docstring explains; typeshed types the attribute as its def.
        ctypes.util.find_library = lookup  # type: ignore[assignment]
    try:
        yield
    finally:
        ctypes.util.find_library = original


def import_weasyprint() -> None:
    """Import WeasyPrint (once per process) with the fast library lookup."""
    if "weasyprint" in sys.modules:
        return
    with _fast_find_library():
        import weasyprint  # noqa: F401
