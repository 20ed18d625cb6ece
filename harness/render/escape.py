"""Escaping for text that came from a config, a ref, a record or an environment before it
enters markdown: it is shortened first (so no later cut can land inside the markup it is put
in), a ``|`` or a newline must not break a table, HTML must not render, and an ``@name``,
``#123`` or ``GH-123`` must not ping anyone or cross-reference an issue.

The one mention neutraliser of the house (:func:`neutralize_mentions`) lives here; the bot
runs the same function over the whole body before posting. Standard library only."""

from __future__ import annotations

import re

#: The invisible character put after a sigil (``@``, ``#``) so GitHub no longer links it.
INVISIBLE = "\u200b"
#: How many characters of one user-supplied string a comment shows (labels, names, refs).
NAME_LIMIT = 120
#: ... of one message (errors, warnings, notes).
MESSAGE_LIMIT = 500

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
#: Characters that are never shown: C0/C1 controls other than whitespace, and the
#: bidirectional overrides that make text read differently from what it is, and lone
#: surrogates (which no file can hold).
_HIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: An ``@`` GitHub would read as a mention: not preceded by a letter or digit (so ``repo@ref``
#: and ``a@b.c`` stay as they are, with no invisible character), followed by a name.
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"(?<!&)#(?=[0-9])")  # not the &#8203; kind of entity
#: ``GH-123``: GitHub links it to issue 123 (and records a cross-reference).
_GH_REFERENCE = re.compile(r"(?<![A-Za-z0-9])(GH-)(?=[0-9])", re.IGNORECASE)
#: A link to an issue, pull request or discussion on github.com cross-references it.
_ISSUE_URL = re.compile(r"(https?://)(github)(\.com/[^/\s]+/[^/\s]+/(?:issues|pull|pulls|"
                        r"discussions)/[0-9])", re.IGNORECASE)
#: Entities markdown turns into ``@`` or ``#`` after the mention filter would have run.
_AT_ENTITY = re.compile(r"&(?:#0*64|#[xX]0*40|commat);")
_HASH_ENTITY = re.compile(r"&(?:#0*35|#[xX]0*23|num);")


def neutralize_mentions(text: str) -> str:
    """Stop ``@user``, ``@org/team`` and ``#123`` / ``owner/repo#123`` from pinging anyone or
    cross-referencing issues, by putting :data:`INVISIBLE` after the sigil. The text reads
    the same; GitHub no longer links it. E-mail addresses and ``repo@ref`` are left alone.
    Also ``GH-123``, links to github.com issues and pull requests, and the entities
    ``&#64;`` / ``&#35;`` (and their hex and named forms) that render as ``@`` and ``#``."""
    text = _HASH_ENTITY.sub("#", _AT_ENTITY.sub("@", text))
    text = _GH_REFERENCE.sub(lambda m: m.group(1) + INVISIBLE, text)
    text = _ISSUE_URL.sub(lambda m: m.group(1) + m.group(2) + INVISIBLE + m.group(3), text)
    return _REFERENCE.sub("#" + INVISIBLE, _MENTION.sub("@" + INVISIBLE, text))


def visible(text: str) -> str:
    """``text`` without the characters that are never shown (controls, bidi overrides);
    whitespace, line breaks and alignment kept (for terminal output)."""
    return _HIDDEN.sub("", text)


def one_line(text: object) -> str:
    """``text`` as one line: hidden characters dropped, every run of whitespace one space."""
    return " ".join(_HIDDEN.sub("", str(text)).split())


def clip(text: object, limit: int = NAME_LIMIT) -> str:
    """``text`` as one line of at most ``limit`` characters, shortened in the middle (a path
    keeps both ends) with ``…``. Applied to the raw string, before any markup."""
    raw = str(text)
    if len(raw) > 8 * limit + 64:  # only both ends can be shown: fold just those (cheap)
        raw = raw[:4 * limit + 32] + " … " + raw[-(4 * limit + 32):]
    s = one_line(raw)
    if len(s) <= limit:
        return s
    half = (limit - 1) // 2
    return s[:half] + "…" + s[len(s) - (limit - 1 - half):]


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_text(text: object, limit: int = NAME_LIMIT) -> str:
    """Inline markdown text: one line of at most ``limit`` characters (before escaping),
    HTML and markdown syntax neutralised, no mentions."""
    return neutralize_mentions(_MD_SPECIAL.sub(r"\\\1", _html(clip(text, limit))))


def md_cell(text: object, limit: int = NAME_LIMIT) -> str:
    """A table cell: like :func:`md_text` (pipes escaped, newlines folded), never empty."""
    return md_text(text, limit) or " "


def md_code(text: object, limit: int = NAME_LIMIT) -> str:
    """Inline code span that cannot be broken out of (backticks and newlines removed)."""
    s = neutralize_mentions(clip(text, limit).replace("`", "'"))
    return f"`{s}`" if s.strip() else "` `"


def md_code_cell(text: object, limit: int = NAME_LIMIT) -> str:
    """Inline code inside a table cell (GFM needs ``\\|`` even within code spans)."""
    return md_code(text, limit).replace("|", "\\|")


def md_inline(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """Like :func:`md_text`, but a span between a pair of backticks stays a code span (the
    harness's own messages quote config keys that way: "gate on `metric: instructions`").
    Shortened first, so the pairs are counted on what is shown."""
    short = clip(text, limit)
    parts = short.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans at all
        return md_text(short, limit)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(md_code(part, limit) if part.strip() else "")
        else:
            lead = " " if part[:1].isspace() else ""
            trail = " " if part[-1:].isspace() and part.strip() else ""
            out.append(lead + md_text(part, limit) + trail)
    return "".join(out)


def html_text(text: object, limit: int = NAME_LIMIT) -> str:
    """Text inside an HTML element (``<summary>``): markdown is not processed there, so only
    HTML is escaped (a backslash would show), mentions neutralised."""
    return neutralize_mentions(_html(clip(text, limit)))


def html_code(text: object, limit: int = NAME_LIMIT) -> str:
    """``<code>`` inside an HTML element."""
    return f"<code>{html_text(text, limit)}</code>"


def size(text: str) -> int:
    """What a comment's length counts against GitHub's limit: its UTF-8 bytes (never fewer
    than its characters), so one measure keeps both under the limit."""
    return len(text.encode("utf-8", "surrogatepass"))
