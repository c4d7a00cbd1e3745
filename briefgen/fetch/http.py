"""Turn GET requests to one public API into parsed JSON: deadlines, retries with backoff, one origin only.

The standard library's urllib is enough for a handful of JSON GETs, and keeps the pinned dependency
set as it is. Redirects are refused rather than followed, and every URL the server hands back (a
next page) must stay on the scheme, host and port of the base URL: a hostile or misconfigured
server cannot send briefgen anywhere else.

A socket timeout bounds each wait for a byte, not a request: a server sending a byte every few
seconds would hold a fetch for ever. So each request has a deadline, and a run (every request and
wait of one client) another; when one passes, a timer shuts the request's connection down, which
ends any read blocked on it. Answers nested deeper than MAX_DEPTH are refused before they are
parsed (Python's parser would overflow its stack on a deep enough one).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from briefgen import __version__
from briefgen.errors import FetchError
from briefgen.fetch.deadline import Watch, watched_handlers

USER_AGENT = f"briefgen/{__version__} (network data refresh)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MAX_DEPTH = 64  # the sources' answers nest 3 or 4 deep
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings (skipped whole) and brackets
_READ = 64 * 1024


@dataclass(frozen=True)
class HttpPolicy:
    """How patient to be with a source. Tests pass tiny delays; the CLI keeps the defaults."""

    timeout_s: float = 30.0  # per connect and per read, as urllib applies it
    attempts: int = 4  # the first try and three retries
    backoff_s: float = 1.0  # 1 s, 2 s, 4 s ... between retries of a 5xx, a timeout or a dropped connection
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After is an error to report, not a wait
    max_bytes: int = 50_000_000
    max_pages: int = 1_000
    min_interval_s: float = 0.0  # at least this long between the starts of two requests (SEC: 0.1 s, 10 a second)
    request_deadline_s: float = 120.0  # one request, from connecting to its last byte, however slowly it comes
    run_deadline_s: float = 900.0  # every request and wait of one fetch together


def check_base_url(url: str, source: str) -> urllib.parse.SplitResult:
    """Accept only http:// and https:// URLs with a host and no credentials, query or fragment."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"{source}: base URL {_shown(url)} must start with http:// or https://")
    if not parts.hostname:
        raise FetchError(f"{source}: base URL {_shown(url)} has no host name")
    if parts.username is not None or parts.password is not None:
        raise FetchError(f"{source}: base URL {_shown(url)} holds credentials; give the address without them")
    if parts.query or parts.fragment:
        raise FetchError(f"{source}: base URL {_shown(url)} must not carry a query or a fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise FetchError(f"{source}: base URL {_shown(url)} has an invalid port") from None
    return parts._replace(scheme=parts.scheme.lower(), path=parts.path.rstrip("/"))


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int]:
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def _shown(text: str, limit: int = 120) -> str:
    text = _CONTROL.sub(" ", str(text))
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def short(url: str) -> str:
    """The URL without its query, for messages: scheme://host/path."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status, handled below


class StatusError(FetchError):
    """The source refused the request with a 4xx status (other than 429); `status` says which."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NotFound(StatusError):
    """The source answered 404: what was asked for does not exist there (a ticker, a concept)."""


class JsonClient:
    """GET JSON from one source's base URL, retrying 429 and 5xx answers, timeouts and dropped connections."""

    def __init__(
        self,
        source: str,
        base_url: str,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        user_agent: str = USER_AGENT,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.source = source
        self.base = check_base_url(base_url, source)
        self.policy = policy or HttpPolicy()
        self.user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._last_start: float | None = None
        self._watch = Watch()
        self._opener = urllib.request.build_opener(_RefuseRedirects, *watched_handlers(self._watch))
        self._started = time.monotonic()
        self._slept = 0.0  # waits asked of `sleep` count against the run's deadline even when a test fakes them

    def url(self, path: str, params: dict[str, str] | None = None) -> str:
        """The base URL joined with an API path (and a query)."""
        query = urllib.parse.urlencode(params or {}, safe=",:")
        return urllib.parse.urlunsplit((self.base.scheme, self.base.netloc, self.base.path + path, query, ""))

    def same_origin(self, url: Any, came_from: str) -> str:
        """Resolve a URL the server gave us, refusing one that leaves the base URL's scheme and host."""
        if not isinstance(url, str) or not url.strip():
            raise FetchError(f"{self.source}: {short(came_from)} gave a next page that is not a URL: {_shown(url)}")
        resolved = urllib.parse.urljoin(came_from, url.strip())
        parts = urllib.parse.urlsplit(resolved)
        try:
            origin = _origin(parts)
        except ValueError:
            origin = None
        if origin != _origin(self.base):
            raise FetchError(
                f"{self.source}: {short(came_from)} points the next page at {_shown(short(resolved))}, "
                f"off {self.base.scheme}://{self.base.netloc}; refusing to follow it"
            )
        return resolved

    def get(self, url: str) -> Any:
        """Return the parsed JSON body of GET `url`; raise FetchError once retries are used up."""
        return self._parse(self.get_bytes(url), url)

    def get_bytes(self, url: str, accept: str = "application/json") -> bytes:
        """Return the body of GET `url` (at most policy.max_bytes); raise FetchError once retries are used up."""
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            left = policy.run_deadline_s - self._elapsed()
            if left <= 0:
                raise self._past_run_deadline(url)
            limit = min(policy.request_deadline_s, left)
            request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": self.user_agent})
            self._pace()
            self._watch.arm(limit)
            try:
                with self._opener.open(request, timeout=min(policy.timeout_s, limit)) as response:
                    body = self._read(response, policy.max_bytes + 1)
                if self._watch.fired:
                    raise self._past_deadline(url, limit)
            except urllib.error.HTTPError as exc:
                try:
                    status, headers, detail = exc.code, exc.headers, _detail(exc)
                finally:
                    exc.close()
                if status == 429 or 500 <= status <= 599:
                    wait = self._retry_after(headers, url, status) if status in (429, 503) else None
                    if last:
                        what = "rate-limited us (429)" if status == 429 else f"answered {status} {_reason(status)}"
                        raise FetchError(
                            f"{self.source}: {short(url)} {what} {policy.attempts} times{detail}; "
                            "the source may be busy or down, try again later"
                        ) from None
                    self._wait(wait if wait is not None else self._backoff(attempt), url)
                    continue
                if 300 <= status <= 399:
                    target = headers.get("Location", "") if headers else ""
                    raise FetchError(
                        f"{self.source}: {short(url)} redirects ({status}) to {_shown(target)}; briefgen "
                        "does not follow redirects: pass the final address as --base-url"
                    ) from None
                error = NotFound if status == 404 else StatusError
                raise error(
                    f"{self.source}: {short(url)} answered {status} {_reason(status)}{detail}", status
                ) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as exc:
                if self._watch.fired:  # the deadline's timer cut the connection
                    raise self._past_deadline(url, limit) from None
                if _permanent(exc):  # no such host, nothing listening: waiting will not change it
                    raise FetchError(
                        f"{self.source}: cannot reach {short(url)} ({_why(exc)}); "
                        "check the network connection and the address"
                    ) from None
                if last:
                    raise FetchError(
                        f"{self.source}: cannot reach {short(url)} ({_why(exc)}) after {policy.attempts} "
                        "attempts; check the network connection and the address"
                    ) from None
                self._wait(self._backoff(attempt), url)
                continue
            finally:
                self._watch.disarm()
            if len(body) > policy.max_bytes:
                raise FetchError(
                    f"{self.source}: {short(url)} sent more than {policy.max_bytes // 1_000_000} MB; "
                    "fetch a shorter period with --since"
                )
            return body
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _read(self, response: http.client.HTTPResponse, limit: int) -> bytes:
        """The body, a chunk at a time (read1 returns what has come), stopping at `limit` bytes or the deadline."""
        chunks, size = [], 0
        while size < limit and not self._watch.fired:
            chunk = response.read1(min(_READ, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _pace(self) -> None:
        """Keep policy.min_interval_s between the starts of two requests (a source's rate limit)."""
        if self.policy.min_interval_s > 0 and self._last_start is not None:
            wait = self._last_start + self.policy.min_interval_s - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _elapsed(self) -> float:
        return time.monotonic() - self._started + self._slept

    def _wait(self, seconds: float, url: str) -> None:
        """Sleep before a retry, unless the wait alone would run past the run's deadline."""
        if self._elapsed() + seconds > self.policy.run_deadline_s:
            raise self._past_run_deadline(url)
        self._slept += seconds
        self._sleep(seconds)

    def _past_deadline(self, url: str, limit: float) -> FetchError:
        if limit < self.policy.request_deadline_s:
            return self._past_run_deadline(url)
        return FetchError(
            f"{self.source}: {short(url)} did not finish within {limit:g} s (the deadline for one "
            "request); the server is answering too slowly, try again later"
        )

    def _past_run_deadline(self, url: str) -> FetchError:
        return FetchError(
            f"{self.source}: stopped at {short(url)}: the fetch ran past its {self.policy.run_deadline_s:g} s "
            "deadline; try again later, or fetch a shorter period with --since"
        )

    def _backoff(self, attempt: int) -> float:
        return min(self.policy.backoff_s * 2 ** (attempt - 1), self.policy.max_backoff_s)

    def _retry_after(self, headers: Any, url: str, status: int) -> float | None:
        """Seconds the server asks us to wait (Retry-After: seconds or an HTTP date), or None."""
        value = headers.get("Retry-After") if headers else None
        if value is None:
            return None
        value = value.strip()
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
        if seconds > self.policy.max_retry_after_s:
            raise FetchError(
                f"{self.source}: {short(url)} answered {status} and asks us to wait {seconds:,.0f} s "
                "before trying again; try again later"
            )
        return seconds

    def _parse(self, body: bytes, url: str) -> Any:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FetchError(f"{self.source}: {short(url)} did not send UTF-8 text") from None
        if _depth(text) > MAX_DEPTH:
            raise FetchError(
                f"{self.source}: {short(url)} sent JSON nested more than {MAX_DEPTH} deep; that is not the source's API"
            )
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:  # not expected below MAX_DEPTH; never a traceback all the same
            raise FetchError(f"{self.source}: {short(url)} sent JSON nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise FetchError(
                f"{self.source}: {short(url)} did not send valid JSON "
                f"({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None
        except ValueError as exc:
            raise FetchError(f"{self.source}: {short(url)} did not send valid JSON ({exc})") from None


def _depth(text: str) -> int:
    """How deep the text's brackets nest, strings skipped (JSON that does not parse is refused after)."""
    depth = deepest = 0
    for match in _NESTING.finditer(text):
        token = match.group(0)
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        elif token in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _reason(status: int) -> str:
    return http.client.responses.get(status, "")


def _detail(exc: urllib.error.HTTPError) -> str:
    """The server's own explanation, when it gave one (Coin Metrics: {"error": {"message": ...}})."""
    try:
        raw = exc.read(4_000)
    except OSError:
        return ""
    text = raw.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        text = message if isinstance(message, str) else ""
    return f": {_shown(text, 200)}" if text else ""


def _permanent(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", None) or exc
    return isinstance(reason, (socket.gaierror, ConnectionRefusedError))


def _why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return _CONTROL.sub(" ", str(text))[:200]
