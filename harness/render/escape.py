"""Escaping for text that came from a config, a ref or an environment before it enters
markdown: a ``|`` or a newline must not break a table, HTML must not render, and an
``@name`` must not ping anyone."""

from __future__ import annotations

import re

_ZWJ = "\u200d"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_text(text: object) -> str:
    """Inline markdown text: one line, HTML and markdown syntax neutralised, no mentions."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return s.replace("@", "@" + _ZWJ)


def md_cell(text: object) -> str:
    """A table cell: like :func:`md_text` (pipes escaped, newlines folded)."""
    return md_text(text) or " "


def md_code(text: object) -> str:
    """Inline code span that cannot be broken out of (backticks and newlines removed)."""
    s = " ".join(str(text).split()).replace("`", "'")
    s = s.replace("@", "@" + _ZWJ)
    return f"`{s}`" if s else "` `"


def md_code_cell(text: object) -> str:
    """Inline code inside a table cell (GFM needs ``\\|`` even within code spans)."""
    return md_code(text).replace("|", "\\|")
