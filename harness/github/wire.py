"""What the bot and its REST client share: the comment marker, size limit, wire records and
``Link`` header parsing. Standard library only, imported by the renderer for the marker."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: First line of every comment the bot writes; how it finds its own comment again.
MARKER = "<!-- startup-harness:comment -->"
#: GitHub refuses comment bodies of 65,536 characters or more; stay safely below (counted
#: in UTF-8 bytes, never fewer than the characters).
MAX_BODY_CHARS = 65_000
API_VERSION = "2022-11-28"
#: Pagination guard: 100 pages of 100 comments.
MAX_PAGES = 100

_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


@dataclass(frozen=True)
class Comment:
    """An issue comment as the API lists it."""

    id: int
    author: str
    author_type: str
    body: str
    url: str = ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Comment:
        user = data.get("user") or {}
        return cls(id=int(data["id"]), author=str(user.get("login", "")),
                   author_type=str(user.get("type", "")), body=str(data.get("body") or ""),
                   url=str(data.get("html_url", "")))


def parse_link_header(header: str | None) -> dict[str, str]:
    """``Link: <url>; rel="next", <url>; rel="last"`` as ``{"next": url, "last": url}``."""
    links: dict[str, str] = {}
    for url, rels in _LINK.findall(header or ""):
        for rel in rels.split():
            links.setdefault(rel, url)
    return links
