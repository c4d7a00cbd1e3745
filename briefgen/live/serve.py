"""Turn a watched inputs folder into a live preview: the brief served over HTTP, reloaded after each rebuild.

`serve` runs briefgen.live.watch in this process and an HTTP server (the standard library's, one thread
per connection) beside it, on 127.0.0.1 unless told otherwise. brief.html is sent with a few lines
of script that open a Server-Sent Events stream (/__briefgen/events); after every rebuild the
server sends one event and the page reloads itself. The page never polls: the browser keeps one
connection open and EventSource reconnects by itself when the server restarts.

A failed rebuild leaves the last good files in place (the build publishes only when every stage
succeeded) and the page shows the error instead of the brief until a rebuild succeeds.

Only regular files inside the output folder are served: no path out of it, no symbolic link (even
one pointing inside), no hidden file (the cache, staging folders).
"""

from __future__ import annotations

import errno
import html
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from briefgen.build import BuildOptions
from briefgen.errors import BriefgenError
from briefgen.live.watch import Rebuild, watch

EVENTS_PATH = "/__briefgen/events"
KEEPALIVE_SECONDS = 15.0
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
    ".otf": "font/otf",
    ".txt": "text/plain; charset=utf-8",
}
RELOAD_SCRIPT = """<script>
/* briefgen serve: reload once the brief is rebuilt (Server-Sent Events; the file on disk has no script). */
(function () {
  var shown = "%d";  /* the build this page shows */
  var events = new EventSource("%s");
  events.addEventListener("rebuild", function (event) {
    if (event.data !== shown) { events.close(); location.reload(); }
  });
})();
</script>
"""


def reload_script(generation: int) -> bytes:
    """The script that reloads a page showing build `generation` as soon as the server has another."""
    return (RELOAD_SCRIPT % (generation, EVENTS_PATH)).encode("utf-8")


class ServeError(BriefgenError):
    """The preview server cannot start (the port is taken, the host is not this machine's)."""


@dataclass(frozen=True)
class State:
    """What the page shows: the build number (a new one reloads the page) and the last error, if any."""

    generation: int = 0
    error: str | None = None
    built: bool = False


class Preview:
    """The state shared by the watch (which updates it) and the HTTP handlers (which wait on it)."""

    def __init__(self, output_dir: Path):
        self.output_dir = Path(output_dir).resolve()
        self.state = State()
        self.changed = threading.Condition()
        self.closing = False

    def update(self, step: Rebuild) -> None:
        with self.changed:
            if step.result is not None and step.result.unchanged and self.state.built and self.state.error is None:
                return  # the same files: the open page is up to date
            built = self.state.built or step.result is not None
            self.state = State(self.state.generation + 1, step.error, built)
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()

    def wait(self, generation: int, timeout: float) -> State:
        """The state once its generation differs from `generation` (or after `timeout`)."""
        with self.changed:
            self.changed.wait_for(lambda: self.closing or self.state.generation != generation, timeout)
            return self.state

    def locate(self, url_path: str) -> Path | None:
        """The regular file inside the output folder that a URL path names, or None."""
        name = unquote(url_path).lstrip("/") or "brief.html"
        parts = Path(name).parts
        if not parts or any(part in ("..", ".") or part.startswith(".") for part in parts) or "\\" in name:
            return None
        path = self.output_dir
        for part in parts:
            path = path / part
            if path.is_symlink():  # even one pointing inside: the folder's files only, as written
                return None
        return path if path.is_file() else None


def page(title: str, body: str, generation: int) -> bytes:
    """A small page of our own (building, error), with the reload script."""
    return (
        (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            "<style>body{font:15px/1.5 system-ui,sans-serif;margin:3em auto;max-width:56em;padding:0 1em;"
            "color:#1b1f24}h1{color:#0a2240;font-size:1.4em}pre{white-space:pre-wrap;background:#fbeaea;"
            "border-left:4px solid #a3251b;"
            "padding:1em;font-size:13px}</style></head>\n"
            f"<body>{body}\n"
        ).encode()
        + reload_script(generation)
        + b"</body></html>\n"
    )


def with_reload(document: bytes, generation: int) -> bytes:
    """brief.html with the reload script added before </body> (the file on disk is left as it is)."""
    marker = b"</body>"
    at = document.rfind(marker)
    script = reload_script(generation)
    return document + script if at < 0 else document[:at] + script + document[at:]


def make_handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "briefgen"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:
            pass  # the watch's report lines are what the user reads

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            path = urlsplit(self.path).path
            if path == EVENTS_PATH:
                return self._events()
            state = preview.state
            if path in ("/", "/brief.html") and state.error is not None:
                title = "The last rebuild failed"
                body = (
                    f"<h1>{title}</h1><p>The brief is shown again once a rebuild succeeds; the last good "
                    f"files are still in {html.escape(str(preview.output_dir))}.</p>"
                    f'<pre id="briefgen-error">{html.escape(state.error)}</pre>'
                )
                return self._send(HTTPStatus.OK, page(title, body, state.generation), _TYPES[".html"], head)
            file = preview.locate(path)
            if path in ("/", "/brief.html") and (file is None or not state.built):
                title = "Building the brief"
                body = f"<h1>{title}…</h1><p>This page reloads when it is ready.</p>"
                return self._send(HTTPStatus.OK, page(title, body, state.generation), _TYPES[".html"], head)
            if file is None:
                return self._send(HTTPStatus.NOT_FOUND, b"not found\n", _TYPES[".txt"], head)
            try:
                data = file.read_bytes()
            except OSError:
                return self._send(HTTPStatus.NOT_FOUND, b"not found\n", _TYPES[".txt"], head)
            if file.name == "brief.html" and file.parent == preview.output_dir:
                data = with_reload(data, state.generation)
            kind = _TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, data, kind, head)

        def _send(self, status: HTTPStatus, data: bytes, kind: str, head: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")  # a reload must fetch the rebuilt files
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                state = preview.state
                self._event(state)
                while not preview.closing:
                    later = preview.wait(state.generation, KEEPALIVE_SECONDS)
                    if later.generation == state.generation:
                        self.wfile.write(b": keep-alive\n\n")  # finds a closed page, ends this thread
                        self.wfile.flush()
                        continue
                    state = later
                    self._event(state)
            except (BrokenPipeError, ConnectionResetError, OSError):
                return

        def _event(self, state: State) -> None:
            self.wfile.write(f"retry: 1000\nevent: rebuild\ndata: {state.generation}\n\n".encode())
            self.wfile.flush()

    return Handler


class Server:
    """The HTTP server of a preview, in a thread of its own."""

    def __init__(self, preview: Preview, host: str = "127.0.0.1", port: int = 8000):
        try:
            self.httpd = ThreadingHTTPServer((host, port), make_handler(preview))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(
                    f"port {port} on {host} is in use; pass another --port (or stop the other server)"
                ) from None
            raise ServeError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); pass --host 127.0.0.1") from None
        self.httpd.daemon_threads = True
        self.preview = preview
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="briefgen-serve", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):  # an AF_UNIX address; serve binds only IP hosts
            host = host.decode()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.preview.close()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve(
    options: BuildOptions,
    report: Callable[[Rebuild], None],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve the output folder and rebuild on every change until `stop` is set (or Ctrl-C)."""
    preview = Preview(options.output_dir)
    server = Server(preview, host, port)
    server.start()
    if ready is not None:
        ready(server.url)

    def step(rebuilt: Rebuild) -> None:
        preview.update(rebuilt)
        report(rebuilt)

    try:
        watch(options, step, stop=stop)
    finally:
        server.stop()
