"""The arguments of ``startup-harness comment``, apart from :mod:`harness.github.bot` so that
building the CLI's parser (``startup-harness --version`` included) imports neither
``dataclasses`` nor the HTTP client."""

from __future__ import annotations

import argparse

#: The login of comments made with a workflow's ``GITHUB_TOKEN``. ``GET /user`` is not
#: available to that token, so the bot's login cannot be asked for; it is configured instead.
DEFAULT_AUTHOR = "github-actions[bot]"


def add_comment_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``startup-harness comment``."""
    parser.add_argument("--body-file", required=True,
                        help="markdown to post (e.g. comment.md from `run`); untrusted")
    parser.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--event", help="workflow_run event JSON to take and verify the PR "
                       "number from (default: $GITHUB_EVENT_PATH)")
    where.add_argument("--pr", type=int, help="post on this PR number instead (manual use)")
    parser.add_argument("--head-sha", help="with --pr: post only if the PR's head is this SHA")
    parser.add_argument("--author", default=None,
                        help=f"login of the bot whose comment is updated (default: "
                        f"$STARTUP_HARNESS_COMMENT_AUTHOR or {DEFAULT_AUTHOR})")
    parser.add_argument("--if-missing", choices=["error", "note"], default="error",
                        help="when --body-file does not exist: fail (default) or post a short "
                        "note so no stale comment remains")
    parser.add_argument("--dry-run", action="store_true",
                        help="look up, but create or update nothing; print the body")
