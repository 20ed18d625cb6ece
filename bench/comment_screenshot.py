"""Look at a comment as a reviewer would: render comment.md to HTML (markdown-it-py, GitHub-like
tables and <details> opened) and screenshot it with headless Chromium.

    python bench/comment_screenshot.py reports/latest/comment.md /tmp/comment.png [--width 1000]

Prints the PNG's path and the first line under the marker (the verdict). Needs
``markdown-it-py`` (a test dependency) and ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px;
       color: #1f2328; margin: 16px; line-height: 1.5; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; padding: 16px; max-width: 920px; }
table { border-collapse: collapse; margin: 8px 0; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; }
tr:nth-child(2n) { background: #f6f8fa; }
code { background: #eff1f3; border-radius: 4px; padding: 1px 4px; font-size: 85%; }
pre { background: #f6f8fa; padding: 8px; border-radius: 6px; }
details { margin: 8px 0; }
"""


def to_html(markdown: str, open_details: bool) -> str:
    body = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(
        markdown)
    if open_details:
        body = body.replace("<details>", "<details open>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>comment</title>"
            f"<style>{CSS}</style></head><body><div class='comment'>{body}</div></body></html>")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comment")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument("--open", action="store_true", help="open every <details> block")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: chromium not found (hint: apt-get install -y chromium)", file=sys.stderr)
        return 2
    text = Path(args.comment).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="comment-shot-") as tmp:
        page = Path(tmp) / "comment.html"
        page.write_text(to_html(text, args.open), encoding="utf-8")
        subprocess.run(  # noqa: S603 - argv list
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={tmp}/profile",
             f"--window-size={args.width},{args.height}",
             f"--screenshot={Path(args.png).resolve()}", page.as_uri()],
            check=True, capture_output=True, timeout=120)
    lines = text.splitlines()
    print(args.png)
    print(html.unescape(lines[1]) if len(lines) > 1 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
