"""The sticky pull-request comment: verify the PR, sanitize the body, create or update.

``startup-harness comment`` runs in a privileged ``workflow_run`` job that must trust nothing
the pull request produced. So:

* the PR number comes from the event GitHub wrote (``$GITHUB_EVENT_PATH``), never from the
  artifact, and is verified through the API: the PR is open, targets this repository, and its
  head is the commit the benchmark ran on (:func:`run_context`, :func:`resolve_pull`);
* the markdown is untrusted: it must start with :data:`MARKER`, stay under
  :data:`MAX_BODY_CHARS` (UTF-8 bytes), and loses anything that would ping people
  (:func:`sanitize_body`);
* only a comment written by the bot (``--author``) and carrying the marker is ever edited,
  found by paginating through all comments (:func:`pick_comment`).

When the PR cannot be verified (the run was not for a PR, the PR moved on to a newer commit, was
closed, or is ambiguous) nothing is posted, the reason is printed, and the exit code is 0: that
is an expected outcome, and the benchmark job already carries the pass/fail signal. Errors
(refused body, API failure, bad arguments) raise :class:`HarnessError`: one line, exit 2.

Standard library only (``urllib.request``, in :mod:`harness.github.api`), so the privileged
job installs the harness with ``--no-deps``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.github.api import GitHubAPIError, GitHubClient
from harness.github.args import DEFAULT_AUTHOR
from harness.github.wire import MARKER, MAX_BODY_CHARS, Comment
from harness.render.escape import neutralize_mentions, size

DEFAULT_API_URL = "https://api.github.com"
#: ``workflow_run.conclusion`` values for which a report (or a note) is posted.
POSTED_CONCLUSIONS = ("success", "failure", "timed_out")

_MARKER_LIKE = re.compile(r"<!--\s*startup-harness\b.*?-->", re.DOTALL | re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


# --------------------------------------------------------------------------- pure helpers


@dataclass(frozen=True)
class RunContext:
    """What the ``workflow_run`` event says about the benchmark run (GitHub-written data)."""

    head_sha: str
    head_repo: str | None  # owner/name of the PR's head repository (a fork, or this repo)
    head_branch: str | None
    pr_numbers: tuple[int, ...]  # workflow_run.pull_requests; empty for forks
    run_url: str = ""


@dataclass(frozen=True)
class Skip:
    """Nothing will be posted, and why."""

    reason: str


@dataclass(frozen=True)
class Outcome:
    """What the upsert did (or, in a dry run, would do)."""

    action: str  # created | updated | unchanged | would-create | would-update
    number: int
    comment_id: int | None = None
    url: str = ""


def sanitize_body(text: str, limit: int = MAX_BODY_CHARS) -> str:
    """The body to post, from untrusted markdown: it must begin with :data:`MARKER` and fit in
    ``limit`` UTF-8 bytes (so in as many characters, as GitHub counts them); further markers
    and marker look-alikes are removed, control characters dropped, mentions neutralized
    (:func:`~harness.render.escape.neutralize_mentions`, the renderer's own). Raises
    :class:`HarnessError` when refused."""
    if size(text) > limit:
        raise HarnessError(f"comment body is {size(text):,} bytes, over the limit of "
                           f"{limit:,}", "the report is refused, not truncated; check the "
                           "renderer's budget")
    text = _CONTROL.sub("", text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    stripped = text.lstrip()
    first, _, rest = stripped.partition("\n")
    if first.strip() != MARKER:
        raise HarnessError("comment body does not start with the startup-harness marker",
                           f"its first line must be {MARKER}")
    rest = _MARKER_LIKE.sub("", rest).replace(MARKER, "")
    body = MARKER + "\n" + neutralize_mentions(rest)
    if size(body) > limit:
        raise HarnessError(f"comment body is {size(body):,} bytes after sanitizing, over "
                           f"the limit of {limit:,}", "the report is refused, not truncated")
    return body


def fallback_body(ctx: RunContext | None) -> str:
    """A short comment for a run that produced no report, so no stale comment remains."""
    where = f" for {ctx.head_sha[:12]}" if ctx else ""
    link = f" See the [workflow run]({ctx.run_url})." if ctx and ctx.run_url else ""
    return (f"{MARKER}\n### Start-up benchmark\n\n:warning: The benchmark produced no report"
            f"{where} (it failed before writing one).{link}\n")


def is_bot_comment(comment: Comment, author: str) -> bool:
    """True for a comment written by ``author`` (a ``Bot`` account if the login ends in
    ``[bot]``) whose first line is the marker."""
    if comment.author.lower() != author.lower():
        return False
    if author.lower().endswith("[bot]") and comment.author_type != "Bot":
        return False
    return comment.body.lstrip("\ufeff").lstrip().startswith(MARKER)


def pick_comment(comments: Iterable[Comment], author: str) -> Comment | None:
    """The bot's sticky comment: the oldest one by ``author`` carrying the marker."""
    return next((c for c in comments if is_bot_comment(c, author)), None)


def run_context(event: Mapping[str, Any], repo: str) -> RunContext | Skip:
    """Read a ``workflow_run`` event: the run's head commit and candidate PRs, or why there
    is nothing to post. Raises :class:`HarnessError` for an event that is not usable at all."""
    run = event.get("workflow_run")
    if not isinstance(run, Mapping):
        raise HarnessError("the event is not a workflow_run event",
                           "run this from a workflow_run workflow, or give --pr N")
    event_repo = (event.get("repository") or {}).get("full_name")
    if not isinstance(event_repo, str) or event_repo.lower() != repo.lower():
        raise HarnessError(f"the event is for repository {event_repo!r}, not {repo!r}",
                           "check --repo / GITHUB_REPOSITORY")
    if run.get("event") != "pull_request":
        return Skip(f"the benchmark run was triggered by {str(run.get('event'))!r}, "
                    "not by a pull request")
    conclusion = run.get("conclusion")
    if conclusion not in POSTED_CONCLUSIONS:
        return Skip(f"the benchmark run's conclusion is {conclusion!r}")
    head_sha = str(run.get("head_sha") or "").lower()
    if not _SHA.match(head_sha):
        raise HarnessError("the event has no valid workflow_run.head_sha", "")
    numbers: list[int] = []
    for pull in run.get("pull_requests") or ():
        number = pull.get("number") if isinstance(pull, Mapping) else None
        if isinstance(number, int) and not isinstance(number, bool) and number > 0:
            numbers.append(number)
    head_repo = (run.get("head_repository") or {}).get("full_name")
    head_branch = run.get("head_branch")
    return RunContext(head_sha=head_sha,
                      head_repo=head_repo if isinstance(head_repo, str) else None,
                      head_branch=head_branch if isinstance(head_branch, str) else None,
                      pr_numbers=tuple(dict.fromkeys(numbers)),
                      run_url=str(run.get("html_url") or ""))


def pull_matches(pull: Mapping[str, Any], repo: str, ctx: RunContext) -> str | None:
    """Why ``pull`` (from ``GET /pulls/N``) is not the run's PR, or ``None`` if it is."""
    head = pull.get("head") or {}
    base_repo = ((pull.get("base") or {}).get("repo") or {}).get("full_name", "")
    head_repo = (head.get("repo") or {}).get("full_name")
    if pull.get("state") != "open":
        return "it is not open"
    if str(base_repo).lower() != repo.lower():
        return f"it targets {base_repo!r}, not {repo!r}"
    if str(head.get("sha", "")).lower() != ctx.head_sha:
        return (f"its head is now {str(head.get('sha', ''))[:12]}, the benchmark ran on "
                f"{ctx.head_sha[:12]}")
    if ctx.head_repo and head_repo and str(head_repo).lower() != ctx.head_repo.lower():
        return f"its head repository is {head_repo!r}, the run's is {ctx.head_repo!r}"
    return None


# --------------------------------------------------------------------------- HTTP client


def resolve_pull(client: GitHubClient, repo: str, ctx: RunContext) -> int | Skip:
    """The one open PR of ``repo`` whose head is ``ctx.head_sha``, checked through the API.

    Candidates come from ``workflow_run.pull_requests``; for forks (where that list is empty)
    from the open PRs whose head is ``owner:branch`` of the run's head repository. Each
    candidate is fetched and kept only if it is open, targets ``repo`` and its head SHA (and
    head repository) equal the run's."""
    candidates = list(ctx.pr_numbers)
    if not candidates and ctx.head_repo and ctx.head_branch:
        owner = ctx.head_repo.split("/", 1)[0]
        candidates = [int(p["number"]) for p in client.open_pulls(repo, f"{owner}:"
                                                                  f"{ctx.head_branch}")
                      if str((p.get("head") or {}).get("sha", "")).lower() == ctx.head_sha]
    if not candidates:
        return Skip(f"no open pull request of {repo} has head {ctx.head_sha[:12]}")
    verified: list[int] = []
    reasons: list[str] = []
    for number in dict.fromkeys(candidates):
        try:
            pull = client.get_pull(repo, number)
        except GitHubAPIError as exc:
            if exc.status != 404:
                raise
            reasons.append(f"#{number}: not found in {repo}")
            continue
        why_not = pull_matches(pull, repo, ctx)
        if why_not is None:
            verified.append(number)
        else:
            reasons.append(f"#{number}: {why_not}")
    if len(verified) > 1:
        return Skip(f"head {ctx.head_sha[:12]} is the head of several pull requests "
                    f"({', '.join(f'#{n}' for n in verified)}); not guessing")
    if not verified:
        return Skip("the pull request could not be verified: " + "; ".join(reasons))
    return verified[0]


# --------------------------------------------------------------------------- upsert


def upsert_comment(client: GitHubClient, repo: str, number: int, body: str, author: str,
                   dry_run: bool = False) -> Outcome:
    """Update the bot's sticky comment on PR ``number`` or create it. ``body`` must already
    be sanitized; it is checked again so no caller can skip that."""
    if sanitize_body(body) != body:
        raise HarnessError("internal: upsert_comment was given an unsanitized body", "")
    existing = pick_comment(client.list_comments(repo, number), author)
    if existing is None:
        if dry_run:
            return Outcome("would-create", number)
        made = client.create_comment(repo, number, body)
        return Outcome("created", number, made.id, made.url)
    if existing.body == body:
        return Outcome("unchanged", number, existing.id, existing.url)
    if dry_run:
        return Outcome("would-update", number, existing.id, existing.url)
    updated = client.update_comment(repo, existing.id, body)
    return Outcome("updated", number, updated.id, updated.url or existing.url)


def read_body(path: str | os.PathLike[str], limit: int = MAX_BODY_CHARS) -> str:
    """Read at most enough bytes of ``path`` to know whether it is over ``limit``. The file
    must be a regular file, not a symlink: an artifact pointing ``comment.md`` at, say,
    ``/proc/self/environ`` would otherwise publish the token."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a FIFO would block the open forever
            raise HarnessError(f"comment body {str(path)!r} is not a regular file",
                               "it must be a regular file, not a symlink, FIFO or device")
        fd = os.open(path, flags)
    except OSError as exc:
        raise HarnessError(f"cannot read comment body {str(path)!r}: {exc.strerror}",
                           "it must be a regular file, not a symlink") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise HarnessError(f"comment body {str(path)!r} is not a regular file", "")
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(limit * 4 + 8)
    return raw.decode("utf-8", errors="replace")


def read_event(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """The event JSON GitHub wrote for this run."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read the event file {str(path)!r}: {exc}",
                           "pass --event PATH or run inside GitHub Actions") from exc
    if not isinstance(data, Mapping):
        raise HarnessError(f"the event file {str(path)!r} is not a JSON object", "")
    return data


# --------------------------------------------------------------------------- command


def comment_command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Run ``startup-harness comment``: 0 when posted, unchanged or deliberately skipped. No
    message, whatever failed, contains the token."""
    env = os.environ if environ is None else environ
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""

    def redact(text: str) -> str:
        return text.replace(token, "***") if token else text

    try:
        return _comment(args, env)
    except HarnessError as exc:
        if token and (token in exc.message or token in exc.hint):
            raise HarnessError(redact(exc.message), redact(exc.hint)) from None
        raise
    except Exception as exc:  # an unexpected error's message may quote a response
        raise HarnessError(f"comment: {type(exc).__name__}: {redact(str(exc))[:300]}",
                           "") from None


def _comment(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    repo = args.repo or env.get("GITHUB_REPOSITORY", "")
    if not _REPO.match(repo):
        raise HarnessError(f"repository {repo!r} is not OWNER/NAME",
                           "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    author = args.author or env.get("STARTUP_HARNESS_COMMENT_AUTHOR") or DEFAULT_AUTHOR
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
    event_path = None if args.pr is not None else (args.event or env.get("GITHUB_EVENT_PATH"))
    if args.pr is None and not event_path:
        raise HarnessError("no pull request to comment on", "give --event PATH or --pr N")
    if args.pr is not None and args.pr <= 0:
        raise HarnessError(f"--pr {args.pr} is not a pull request number", "")

    ctx: RunContext | None = None
    if event_path:
        found = run_context(read_event(event_path), repo)
        if isinstance(found, Skip):
            return _skip(found, env)
        ctx = found

    body = _load_body(args.body_file, args.if_missing, ctx)
    if token and token in body:
        raise HarnessError("the comment body contains the API token; refusing to post it", "")
    client = GitHubClient(env.get("GITHUB_API_URL") or DEFAULT_API_URL, token) if token else None
    if client is None and not (args.dry_run and ctx is None):
        raise HarnessError("no token to call the GitHub API",
                           "set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: "
                           "${{ github.token }})")

    number: int | Skip
    if ctx is not None:
        assert client is not None
        number = resolve_pull(client, repo, ctx)
    else:
        number = args.pr
        if args.head_sha and client is not None:
            pinned = RunContext(head_sha=args.head_sha.lower(), head_repo=None, head_branch=None,
                                pr_numbers=(args.pr,))
            number = resolve_pull(client, repo, pinned)
    if isinstance(number, Skip):
        return _skip(number, env)

    if client is None:
        print(f"dry run: would create or update the comment on {repo}#{number} "
              f"({len(body):,} characters; no token, so no lookup)", file=sys.stderr)
        sys.stdout.write(body)
        return 0
    outcome = upsert_comment(client, repo, number, body, author, dry_run=args.dry_run)
    print(_describe(outcome, repo), file=sys.stderr)
    if args.dry_run:
        sys.stdout.write(body)
    return 0


def _load_body(path: str, if_missing: str, ctx: RunContext | None) -> str:
    if not os.path.lexists(path):
        if if_missing == "note":
            return sanitize_body(fallback_body(ctx))
        raise HarnessError(f"comment body {path!r} does not exist",
                           "run `startup-harness run` first, or pass --if-missing note")
    return sanitize_body(read_body(path))


def _describe(outcome: Outcome, repo: str) -> str:
    where = f"{repo}#{outcome.number}"
    url = f": {outcome.url}" if outcome.url else ""
    return {
        "created": f"created the startup-harness comment on {where}{url}",
        "updated": f"updated the startup-harness comment on {where}{url}",
        "unchanged": f"the startup-harness comment on {where} is already up to date{url}",
        "would-create": f"dry run: would create the startup-harness comment on {where}",
        "would-update": f"dry run: would update the startup-harness comment on {where}{url}",
    }[outcome.action]


def _skip(skip: Skip, env: Mapping[str, str]) -> int:
    message = f"startup-harness comment: posting nothing: {skip.reason}"
    print(message, file=sys.stderr)
    if env.get("GITHUB_ACTIONS") == "true":
        # A workflow-command notice; the reason holds no newline (refs and SHAs cannot).
        print("::notice title=startup-harness comment::" + _command_escape(message))
    return 0


def _command_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


