"""The HTTP side of the comment bot: a small GitHub REST client over ``urllib``.

Imported only by the bot, so building the CLI's parser never loads ``urllib.request``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

from harness.errors import HarnessError
from harness.github.wire import API_VERSION, MAX_PAGES, Comment, parse_link_header


class GitHubAPIError(HarnessError):
    """The API answered with an HTTP error status."""

    def __init__(self, message: str, hint: str, status: int) -> None:
        super().__init__(message, hint)
        self.status = status


class GitHubClient:
    """The few REST endpoints the bot needs, over ``urllib``. Never follows a URL to another
    host than ``api_url``, so the token goes nowhere else."""

    def __init__(self, api_url: str, token: str, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(api_url)
        if parsed.scheme not in ("https", "http") or not parsed.netloc:
            raise HarnessError(f"GITHUB_API_URL {api_url!r} is not an http(s) URL", "")
        self.api_url = api_url.rstrip("/")
        self._origin = (parsed.scheme, parsed.netloc)
        self._token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self._origin))

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
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
                headers = {k.lower(): v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as exc:
            raise GitHubAPIError(f"{what}: HTTP {exc.code}: {_api_message(exc)}",
                                 _hint_for(exc.code), exc.code) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HarnessError(f"{what}: cannot reach the API: {reason}",
                               "check GITHUB_API_URL and the network") from exc
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


def _hint_for(status: int) -> str:
    if status in (401, 403, 404):
        return ("the token needs pull-requests: write (and actions: read to download the "
                "artifact); GITHUB_TOKEN must be set")
    return ""


# --------------------------------------------------------------------------- verification
