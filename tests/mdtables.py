"""Read the tables of a markdown text the way a CommonMark+tables parser sees them."""

from __future__ import annotations

from markdown_it import MarkdownIt


def tables(text: str) -> list[list[list[str]]]:
    """Every table in ``text`` as rows of cell texts."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    out: list[list[list[str]]] = []
    row: list[str] = []
    for i, tok in enumerate(tokens):
        if tok.type == "table_open":
            out.append([])
        elif tok.type == "tr_open":
            row = []
        elif tok.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content if tokens[i + 1].type == "inline" else "")
        elif tok.type == "tr_close":
            out[-1].append(row)
    return out
