"""Escaping for text that came from a config, a ref or an environment before it enters
markdown: a ``|`` or a newline must not break a table, HTML must not render, and an
``@name`` must not ping anyone."""

from __future__ import annotations

import re

_ZWJ = "\u200d"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
#: An ``@`` GitHub would read as a mention: not preceded by a letter or digit (so ``repo@ref``
#: and ``a@b.c`` stay as they are, with no invisible character), followed by a name.
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")


def md_text(text: object) -> str:
    """Inline markdown text: one line, HTML and markdown syntax neutralised, no mentions."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return _MENTION.sub("@" + _ZWJ, s)


def md_cell(text: object) -> str:
    """A table cell: like :func:`md_text` (pipes escaped, newlines folded)."""
    return md_text(text) or " "


def md_code(text: object) -> str:
    """Inline code span that cannot be broken out of (backticks and newlines removed)."""
    s = " ".join(str(text).split()).replace("`", "'")
    s = _MENTION.sub("@" + _ZWJ, s)
    return f"`{s}`" if s else "` `"


def md_code_cell(text: object) -> str:
    """Inline code inside a table cell (GFM needs ``\\|`` even within code spans)."""
    return md_code(text).replace("|", "\\|")


def md_inline(text: object) -> str:
    """Like :func:`md_text`, but a span between a pair of backticks stays a code span (the
    harness's own messages quote config keys that way: "gate on `metric: instructions`")."""
    parts = " ".join(str(text).split()).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans at all
        return md_text(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(md_code(part) if part.strip() else "")
        else:
            lead = " " if part[:1].isspace() else ""
            trail = " " if part[-1:].isspace() and part.strip() else ""
            out.append(lead + md_text(part) + trail)
    return "".join(out)


def html_text(text: object) -> str:
    """Text inside an HTML element (``<summary>``): markdown is not processed there, so only
    HTML is escaped (a backslash would show), mentions neutralised."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@" + _ZWJ, s)


def html_code(text: object) -> str:
    """``<code>`` inside an HTML element."""
    return f"<code>{html_text(text)}</code>"
