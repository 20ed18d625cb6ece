"""The HTTP side of the comment bot: a small GitHub REST client over ``urllib``.

Imported only by the bot, so building the CLI's parser never loads ``urllib.request``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from harness.errors import HarnessError
from harness.github.wire import API_VERSION, MAX_PAGES, Comment, parse_link_header

#: Retries of one call after a 5xx, a 429, a rate-limited 403 or a dropped connection.
RETRIES = 4
#: First back-off in seconds (doubled each retry) when the API names no time to wait.
BACKOFF_S = 2.0
#: The longest single wait, whatever ``Retry-After`` or ``x-ratelimit-reset`` ask for.
MAX_WAIT_S = 60.0
RETRY_STATUSES = (500, 502, 503, 504, 429)


class GitHubAPIError(HarnessError):
    """The API answered with an HTTP error status."""

    def __init__(self, message: str, hint: str, status: int) -> None:
        super().__init__(message, hint)
        self.status = status


class GitHubClient:
    """The few REST endpoints the bot needs, over ``urllib``. Never follows a URL to another
    host than ``api_url``, so the token goes nowhere else."""

    def __init__(self, api_url: str, token: str, timeout: float = 30.0, *,
                 retries: int | None = None, backoff_s: float | None = None,
                 max_wait_s: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        parsed = urllib.parse.urlsplit(api_url)
        if parsed.scheme not in ("https", "http") or not parsed.netloc:
            raise HarnessError(f"GITHUB_API_URL {api_url!r} is not an http(s) URL", "")
        self.api_url = api_url.rstrip("/")
        self._origin = (parsed.scheme, parsed.netloc)
        self._token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self._origin))
        self.retries = RETRIES if retries is None else retries
        self.backoff_s = BACKOFF_S if backoff_s is None else backoff_s
        self.max_wait_s = MAX_WAIT_S if max_wait_s is None else max_wait_s
        self._sleep = sleep

    def redact(self, text: str) -> str:
        """``text`` with the token replaced by ``***`` (error messages quote responses)."""
        return text.replace(self._token, "***") if self._token else text

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith("/"):
            return self.api_url + path_or_url
        parsed = urllib.parse.urlsplit(path_or_url)
        if (parsed.scheme, parsed.netloc) != self._origin:
            raise HarnessError(f"the API pointed to another host ({parsed.netloc!r})",
                               "refusing to send the token there")
        return path_or_url

    def request(self, method: str, path_or_url: str,
                data: Mapping[str, Any] | None = None) -> tuple[Any, Mapping[str, str]]:
        """One API call; returns the decoded JSON and the response headers."""
        url = self._url(path_or_url)
        payload = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=payload, method=method, headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "startup-harness",
            **({"Content-Type": "application/json"} if payload is not None else {}),
        })
        what = f"GitHub API {method} {urllib.parse.urlsplit(url).path}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                    headers = {k.lower(): v for k, v in resp.headers.items()}
                break
            except urllib.error.HTTPError as exc:
                message = self.redact(_api_message(exc))
                wait = None if last else retry_wait(exc.code, exc.headers, attempt,
                                                    self.backoff_s, self.max_wait_s)
                if wait is None:
                    tried = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise GitHubAPIError(f"{what}: HTTP {exc.code}{tried}: {message}",
                                         _hint_for(exc.code, exc.headers), exc.code) from None
                self._sleep(wait)
            except HarnessError:
                raise
            except (urllib.error.URLError, OSError) as exc:
                if last:
                    reason = self.redact(str(getattr(exc, "reason", exc)))
                    raise HarnessError(f"{what}: cannot reach the API after {attempt + 1} "
                                       f"attempts: {reason}",
                                       "check GITHUB_API_URL and the network") from None
                self._sleep(min(self.backoff_s * 2 ** attempt, self.max_wait_s))
        try:
            return (json.loads(raw) if raw.strip() else None), headers
        except ValueError as exc:
            raise HarnessError(f"{what}: the response is not JSON", "") from exc

    def paginate(self, path: str) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` to the end."""
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                return
            items, headers = self.request("GET", url)
            if not isinstance(items, list):
                raise HarnessError(f"GitHub API GET {path}: expected a list", "")
            yield from items
            url = parse_link_header(headers.get("link")).get("next")
        if url is not None:
            raise HarnessError(f"GitHub API GET {path}: more than {MAX_PAGES} pages",
                               "refusing to guess which comment is the bot's")

    def get_pull(self, repo: str, number: int) -> Mapping[str, Any]:
        data, _ = self.request("GET", f"/repos/{repo}/pulls/{number}")
        return data if isinstance(data, Mapping) else {}

    def open_pulls(self, repo: str, head: str) -> list[Mapping[str, Any]]:
        query = urllib.parse.urlencode({"state": "open", "head": head, "per_page": 100})
        return list(self.paginate(f"/repos/{repo}/pulls?{query}"))

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        return [Comment.from_api(c)
                for c in self.paginate(f"/repos/{repo}/issues/{number}/comments?per_page=100")]

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        data, _ = self.request("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
        return Comment.from_api(data)

    def update_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        data, _ = self.request("PATCH", f"/repos/{repo}/issues/comments/{comment_id}",
                               {"body": body})
        return Comment.from_api(data)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects (renamed repositories) only within the API's origin: urllib keeps
    the Authorization header on a redirect."""

    def __init__(self, origin: tuple[str, str]) -> None:
        super().__init__()
        self.origin = origin

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        parsed = urllib.parse.urlsplit(newurl)
        if (parsed.scheme, parsed.netloc) != self.origin:
            raise HarnessError(f"the API redirected to another host ({parsed.netloc!r})",
                               "refusing to send the token there")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _api_message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read() or b"{}").get("message", exc.reason))[:200]
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def rate_limited(status: int, headers: Any) -> bool:
    """A 403 or 429 that is GitHub's rate limit (primary or secondary), not a permission."""
    headers = headers or {}
    return status in (403, 429) and (headers.get("x-ratelimit-remaining") == "0"
                                     or headers.get("retry-after") is not None)


def retry_wait(status: int, headers: Any, attempt: int, backoff_s: float,
               max_wait_s: float, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait before retrying a call that failed with ``status``, or None when the
    failure is final: ``Retry-After``, else ``x-ratelimit-reset`` (when the limit is spent),
    else exponential back-off; capped at ``max_wait_s``."""
    headers = headers or {}
    if status not in RETRY_STATUSES and not rate_limited(status, headers):
        return None
    wait = backoff_s * 2 ** attempt
    after, reset = headers.get("retry-after"), headers.get("x-ratelimit-reset")
    try:
        if after is not None:
            wait = float(after)
        elif reset is not None and headers.get("x-ratelimit-remaining") == "0":
            wait = float(reset) - now() + 1
    except ValueError:
        pass
    return max(0.0, min(wait, max_wait_s))


def _hint_for(status: int, headers: Any = None) -> str:
    if rate_limited(status, headers):
        return ("GitHub's rate limit: retried with back-off and gave up; rerun the job later "
                "(x-ratelimit-reset says when the limit resets)")
    if status >= 500:
        return "GitHub's side failed repeatedly; rerun the job later"
    if status == 401:
        return "the token is missing, expired or invalid: set GITHUB_TOKEN"
    if status in (403, 404):
        return ("the token needs pull-requests: write (and actions: read to download the "
                "artifact), and the repository must be the one named")
    return ""


# --------------------------------------------------------------------------- verification
