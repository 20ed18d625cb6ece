"""The sticky-comment bot: pure helpers, and the upsert against a real HTTP server on
127.0.0.1 that speaks the few REST endpoints used (pulls, comments with Link pagination)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.github import bot, wire
from harness.github.args import add_comment_arguments
from harness.github.bot import RunContext, Skip
from harness.github.wire import MARKER, Comment

REPO = "octo/widgets"
SHA = "a" * 40
OTHER_SHA = "b" * 40
TOKEN = "test-token"
BOT = "github-actions[bot]"


# --------------------------------------------------------------------------- pure helpers


def test_sanitize_requires_marker_first() -> None:
    with pytest.raises(HarnessError, match="marker"):
        bot.sanitize_body("### Results\n" + MARKER + "\n")
    with pytest.raises(HarnessError, match="marker"):
        bot.sanitize_body("")
    assert bot.sanitize_body("\ufeff\r\n" + MARKER + "\r\nok\r\n") == MARKER + "\nok\n"


def test_sanitize_refuses_oversized_body() -> None:
    body = MARKER + "\n" + "x" * bot.MAX_BODY_CHARS
    with pytest.raises(HarnessError, match="over the limit"):
        bot.sanitize_body(body)
    # Just under the limit before sanitizing, over it after the mentions are neutralized.
    near = MARKER + "\n" + "@a " * ((bot.MAX_BODY_CHARS - len(MARKER) - 1) // 3)
    assert len(near) <= bot.MAX_BODY_CHARS
    with pytest.raises(HarnessError, match="after sanitizing"):
        bot.sanitize_body(near)
    assert bot.MAX_BODY_CHARS < 65_536


def test_sanitize_neutralizes_mentions_and_references() -> None:
    body = bot.sanitize_body(
        f"{MARKER}\ncc @alice, @org/team (@bob) owner/repo#12 and #3; mail a@b.example\n"
        "`@inline` &#8203; x@y\n")
    assert "@alice" not in body and "@org/team" not in body and "(@bob)" not in body
    assert "@\u200balice" in body and "@\u200borg/team" in body
    assert "repo#\u200b12" in body and "#\u200b3" in body
    assert "a@b.example" in body and "x@y" in body and "&#8203;" in body
    assert bot.sanitize_body(body) == body  # idempotent


def test_sanitize_strips_extra_and_lookalike_markers() -> None:
    body = bot.sanitize_body(
        f"{MARKER}\nA\n{MARKER}\n<!-- startup-harness:comment --x -->B<!--\nstartup-harness\n-->C\n"
        "<!-- other -->\x00\x07D\n")
    assert body.count("startup-harness") == 1
    assert body == MARKER + "\nA\n\nBC\n<!-- other -->D\n"


def test_parse_link_header() -> None:
    header = ('<https://api.github.com/x?page=2>; rel="next", '
              '<https://api.github.com/x?page=9>; rel="last"')
    assert wire.parse_link_header(header) == {"next": "https://api.github.com/x?page=2",
                                                "last": "https://api.github.com/x?page=9"}
    assert wire.parse_link_header(None) == {}
    assert wire.parse_link_header('<u>; rel="prev first"') == {"prev": "u", "first": "u"}


def test_pick_comment_matches_author_type_and_marker() -> None:
    lookalike = Comment(1, "mallory", "User", MARKER + "\nfake")
    unmarked = Comment(2, BOT, "Bot", "some other bot message")
    impostor = Comment(3, BOT, "User", MARKER + "\nnot really a bot")
    mine = Comment(4, BOT, "Bot", MARKER + "\nreal")
    later = Comment(5, BOT, "Bot", MARKER + "\nduplicate")
    assert bot.pick_comment([lookalike, unmarked, impostor, mine, later], BOT) == mine
    assert bot.pick_comment([lookalike, unmarked, impostor], BOT) is None
    assert bot.pick_comment([Comment(6, "Me", "User", MARKER)], "me") is not None


def _event(*, event: str = "pull_request", conclusion: str = "success", head_sha: str = SHA,
           pulls: list[int] | None = None, head_repo: str = REPO, branch: str = "feature",
           repo: str = REPO) -> dict[str, Any]:
    return {
        "action": "completed",
        "repository": {"full_name": repo},
        "workflow_run": {
            "id": 77, "event": event, "conclusion": conclusion, "head_sha": head_sha,
            "head_branch": branch, "html_url": "https://github.com/octo/widgets/actions/runs/77",
            "head_repository": {"full_name": head_repo},
            "pull_requests": [{"number": n, "head": {"sha": head_sha}} for n in pulls or []],
        },
    }


def test_run_context_reads_the_event() -> None:
    ctx = bot.run_context(_event(pulls=[5, 5]), REPO)
    assert ctx == RunContext(SHA, REPO, "feature", (5,),
                             "https://github.com/octo/widgets/actions/runs/77")
    fork = bot.run_context(_event(head_repo="eve/widgets"), REPO)
    assert isinstance(fork, RunContext) and fork.pr_numbers == ()
    assert isinstance(bot.run_context(_event(event="push"), REPO), Skip)
    assert isinstance(bot.run_context(_event(conclusion="cancelled"), REPO), Skip)
    with pytest.raises(HarnessError, match="not 'octo/widgets'"):
        bot.run_context(_event(repo="eve/widgets"), REPO)
    with pytest.raises(HarnessError, match="head_sha"):
        bot.run_context(_event(head_sha="main"), REPO)
    with pytest.raises(HarnessError, match="not a workflow_run"):
        bot.run_context({"pull_request": {"number": 1}}, REPO)


# --------------------------------------------------------------------------- fake GitHub


@dataclass
class FakeGitHub:
    """State behind the fake API: pulls, comments per issue, and every request seen."""

    page_size: int = 2
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    bot_login: str = BOT
    next_id: int = 1000
    redirect_to: str | None = None
    base: str = ""
    #: failures served before routing, in order: (status, headers, message)
    inject: list[tuple[int, dict[str, str], str]] = field(default_factory=list)

    def add_pull(self, number: int, *, sha: str = SHA, head_repo: str = REPO,
                 branch: str = "feature", state: str = "open", base_repo: str = REPO) -> None:
        self.pulls[number] = {
            "number": number, "state": state,
            "head": {"sha": sha, "ref": branch, "repo": {"full_name": head_repo}},
            "base": {"repo": {"full_name": base_repo}},
        }

    def add_comment(self, number: int, login: str, body: str, kind: str = "User") -> int:
        self.next_id += 1
        self.comments.setdefault(number, []).append(
            {"id": self.next_id, "user": {"login": login, "type": kind}, "body": body,
             "html_url": f"https://github.com/{REPO}/pull/{number}#c{self.next_id}"})
        return self.next_id

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] in ("POST", "PATCH", "DELETE")]


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _route(self, method: str) -> None:
            state.requests.append((method, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, {"message": "Bad credentials"})
            if state.inject:
                status, headers, message = state.inject.pop(0)
                return self._send(status, {"message": message}, headers)
            if state.redirect_to:
                self.send_response(307)
                self.send_header("Location", state.redirect_to + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            parts = url.path.strip("/").split("/")
            if parts[:3] != ["repos", *REPO.split("/")]:
                return self._send(404, {"message": "Not Found"})
            rest = parts[3:]
            if method == "GET" and rest == ["pulls"]:
                owner, _, branch = query.get("head", ":").partition(":")
                found = [p for p in state.pulls.values() if p["state"] == query.get("state")
                         and p["head"]["repo"]["full_name"].split("/")[0] == owner
                         and p["head"]["ref"] == branch]
                return self._send(200, found)
            if method == "GET" and len(rest) == 2 and rest[0] == "pulls":
                pull = state.pulls.get(int(rest[1]))
                return self._send(200, pull) if pull else self._send(404, {"message": "no"})
            if len(rest) == 3 and rest[0] == "issues" and rest[2] == "comments":
                number = int(rest[1])
                if method == "GET":
                    return self._list(url.path, number, int(query.get("page", 1)))
                if method == "POST":
                    new_id = state.add_comment(number, state.bot_login, self._body()["body"],
                                               "Bot")
                    return self._send(201, state.comments[number][-1] | {"id": new_id})
            if method == "PATCH" and rest[:2] == ["issues", "comments"]:
                for items in state.comments.values():
                    for item in items:
                        if item["id"] == int(rest[2]):
                            item["body"] = self._body()["body"]
                            return self._send(200, item)
            return self._send(404, {"message": "Not Found"})

        def _list(self, path: str, number: int, page: int) -> None:
            items = state.comments.get(number, [])
            size = state.page_size
            chunk = items[(page - 1) * size: page * size]
            links = []
            if page * size < len(items):
                links.append(f'<{state.base}{path}?per_page=100&page={page + 1}>; rel="next"')
                last = (len(items) + size - 1) // size
                links.append(f'<{state.base}{path}?per_page=100&page={last}>; rel="last"')
            self._send(200, chunk, {"Link": ", ".join(links)} if links else None)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    state = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_comment_arguments(parser)
    return parser.parse_args(list(argv))


def _env(fake: FakeGitHub, tmp_path: Path, event: dict[str, Any] | None = None) -> dict[str, str]:
    env = {"GITHUB_API_URL": fake.base, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}
    if event is not None:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        env["GITHUB_EVENT_PATH"] = str(path)
    return env


def _body_file(tmp_path: Path, text: str = f"{MARKER}\n### Start-up\n\nall good @here\n") -> str:
    path = tmp_path / "comment.md"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _noise(fake: FakeGitHub, number: int, count: int) -> None:
    for i in range(count):
        fake.add_comment(number, f"user{i}", f"comment {i}")


# --------------------------------------------------------------------------- upsert


def test_creates_the_comment_when_absent(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7)
    _noise(fake, 7, 5)  # three pages at two per page
    env = _env(fake, tmp_path, _event(pulls=[7]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    pages = [p for m, p in fake.requests if m == "GET" and "/comments" in p]
    assert len(pages) == 3
    assert fake.writes() == [("POST", f"/repos/{REPO}/issues/7/comments")]
    posted = fake.comments[7][-1]
    assert posted["body"].startswith(MARKER + "\n") and "@\u200bhere" in posted["body"]


def test_updates_its_own_comment_found_on_a_later_page(fake: FakeGitHub,
                                                        tmp_path: Path) -> None:
    fake.add_pull(7)
    _noise(fake, 7, 4)
    mine = fake.add_comment(7, BOT, MARKER + "\nold results", "Bot")
    _noise(fake, 7, 2)
    env = _env(fake, tmp_path, _event(pulls=[7]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.writes() == [("PATCH", f"/repos/{REPO}/issues/comments/{mine}")]
    assert len(fake.comments[7]) == 7
    assert "### Start-up" in next(c for c in fake.comments[7] if c["id"] == mine)["body"]

    fake.requests.clear()  # same body again: nothing to write
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.writes() == []


def test_ignores_a_lookalike_by_another_author(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7)
    fake.add_comment(7, "mallory", MARKER + "\nI am the bot, honest")
    fake.add_comment(7, BOT, MARKER + "\nposted by a human pretending", "User")
    env = _env(fake, tmp_path, _event(pulls=[7]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert [m for m, _ in fake.writes()] == ["POST"]
    assert fake.comments[7][0]["body"] == MARKER + "\nI am the bot, honest"


def test_custom_author_for_an_app_token(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.bot_login = "bench-app[bot]"
    fake.add_pull(7)
    fake.add_comment(7, BOT, MARKER + "\nfrom the default token", "Bot")
    mine = fake.add_comment(7, "bench-app[bot]", MARKER + "\nold", "Bot")
    env = _env(fake, tmp_path, _event(pulls=[7]))
    args = _args("--body-file", _body_file(tmp_path), "--author", "bench-app[bot]")
    assert bot.comment_command(args, env) == 0
    assert fake.writes() == [("PATCH", f"/repos/{REPO}/issues/comments/{mine}")]


@pytest.mark.parametrize("text", [
    "### Start-up\n\nno marker\n",
    f"### Start-up\n{MARKER}\nmarker not first\n",
    f"{MARKER}\n" + "x" * 70_000,
])
def test_refuses_oversized_or_markerless_body(fake: FakeGitHub, tmp_path: Path,
                                              text: str) -> None:
    fake.add_pull(7)
    env = _env(fake, tmp_path, _event(pulls=[7]))
    with pytest.raises(HarnessError):
        bot.comment_command(_args("--body-file", _body_file(tmp_path, text)), env)
    assert fake.writes() == [] and 7 not in fake.comments


def test_reads_no_more_than_needed_of_a_huge_body(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(MARKER.encode() + b"\n" + b"x" * 10_000_000)
    text = bot.read_body(path)
    assert len(text) < 300_000
    with pytest.raises(HarnessError, match="over the limit"):
        bot.sanitize_body(text)


def test_refuses_a_symlinked_body_or_one_holding_the_token(fake: FakeGitHub,
                                                          tmp_path: Path) -> None:
    fake.add_pull(7)
    env = _env(fake, tmp_path, _event(pulls=[7]))
    secret = tmp_path / "environ"
    secret.write_text(f"{MARKER}\nGITHUB_TOKEN={TOKEN}\n", encoding="utf-8")
    link = tmp_path / "link.md"
    link.symlink_to(secret)
    with pytest.raises(HarnessError, match="symlink"):
        bot.comment_command(_args("--body-file", str(link), "--if-missing", "note"), env)
    with pytest.raises(HarnessError, match="contains the API token"):
        bot.comment_command(_args("--body-file", str(secret)), env)
    with pytest.raises(HarnessError, match="not a regular file"):
        bot.comment_command(_args("--body-file", str(tmp_path)), env)
    assert fake.writes() == []


@pytest.mark.parametrize("setup", ["moved_on", "closed", "other_base", "no_such_pr"])
def test_unverifiable_pr_posts_nothing(fake: FakeGitHub, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str], setup: str) -> None:
    if setup == "moved_on":
        fake.add_pull(7, sha=OTHER_SHA)  # a newer push: this run's results are stale
    elif setup == "closed":
        fake.add_pull(7, state="closed")
    elif setup == "other_base":
        fake.add_pull(7, base_repo="eve/widgets")
    env = _env(fake, tmp_path, _event(pulls=[7]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.writes() == []
    assert "posting nothing" in capsys.readouterr().err


def test_fork_pr_is_found_by_head_sha(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(9, head_repo="eve/widgets", branch="main")
    fake.add_pull(8, head_repo="eve/widgets", branch="other")
    event = _event(pulls=[], head_repo="eve/widgets", branch="main")
    env = _env(fake, tmp_path, event)
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    lookups = [p for m, p in fake.requests if m == "GET" and "/pulls?" in p]
    assert lookups and "head=eve%3Amain" in lookups[0]
    assert fake.writes() == [("POST", f"/repos/{REPO}/issues/9/comments")]


def test_fork_pr_with_another_head_sha_posts_nothing(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(9, head_repo="eve/widgets", branch="main", sha=OTHER_SHA)
    env = _env(fake, tmp_path, _event(pulls=[], head_repo="eve/widgets", branch="main"))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.writes() == []


def test_event_pr_from_another_head_repo_is_rejected(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7, head_repo="eve/widgets")
    env = _env(fake, tmp_path, _event(pulls=[7], head_repo="mallory/widgets"))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.writes() == []


def test_two_prs_with_the_same_head_post_nothing(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7)
    fake.add_pull(8)
    env = _env(fake, tmp_path, _event(pulls=[7, 8]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.writes() == []


@pytest.mark.parametrize("event", [_event(event="push"), _event(conclusion="cancelled")])
def test_non_pr_or_cancelled_runs_post_nothing(fake: FakeGitHub, tmp_path: Path,
                                               event: dict[str, Any]) -> None:
    fake.add_pull(7)
    env = _env(fake, tmp_path, event) | {"GITHUB_ACTIONS": "true"}
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert fake.requests == []


def test_missing_report_posts_a_note_only_when_asked(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7)
    mine = fake.add_comment(7, BOT, MARKER + "\nstale results", "Bot")
    env = _env(fake, tmp_path, _event(pulls=[7], conclusion="failure"))
    missing = str(tmp_path / "absent.md")
    with pytest.raises(HarnessError, match="does not exist"):
        bot.comment_command(_args("--body-file", missing), env)
    assert fake.writes() == []
    assert bot.comment_command(_args("--body-file", missing, "--if-missing", "note"), env) == 0
    assert fake.writes() == [("PATCH", f"/repos/{REPO}/issues/comments/{mine}")]
    body = fake.comments[7][0]["body"]
    assert body.startswith(MARKER) and "produced no report" in body and "actions/runs/77" in body


def test_manual_pr_and_head_sha(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7)
    env = _env(fake, tmp_path)
    body = _body_file(tmp_path)
    assert bot.comment_command(_args("--body-file", body, "--pr", "7",
                                        "--head-sha", OTHER_SHA), env) == 0
    assert fake.writes() == []
    assert bot.comment_command(_args("--body-file", body, "--pr", "7"), env) == 0
    assert [m for m, _ in fake.writes()] == ["POST"]


def test_dry_run_writes_nothing(fake: FakeGitHub, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    fake.add_pull(7)
    env = _env(fake, tmp_path, _event(pulls=[7]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path), "--dry-run"),
                                  env) == 0
    assert fake.writes() == []
    out = capsys.readouterr()
    assert "would create" in out.err and out.out.startswith(MARKER)
    # Without a token a manual dry run only prints the sanitized body.
    no_token = {"GITHUB_REPOSITORY": REPO}
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path), "--dry-run",
                                        "--pr", "3"), no_token) == 0
    assert "@\u200bhere" in capsys.readouterr().out


def test_token_is_required_and_sent(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(7)
    env = _env(fake, tmp_path, _event(pulls=[7]))
    with pytest.raises(HarnessError, match="no token"):
        bot.comment_command(_args("--body-file", _body_file(tmp_path)),
                               {k: v for k, v in env.items() if k != "GITHUB_TOKEN"})
    with pytest.raises(HarnessError, match="HTTP 401"):
        bot.comment_command(_args("--body-file", _body_file(tmp_path)),
                               env | {"GITHUB_TOKEN": "wrong"})


def test_bad_repo_or_missing_target_is_an_error(tmp_path: Path) -> None:
    body = _body_file(tmp_path)
    with pytest.raises(HarnessError, match="OWNER/NAME"):
        bot.comment_command(_args("--body-file", body, "--pr", "1"), {})
    with pytest.raises(HarnessError, match="no pull request"):
        bot.comment_command(_args("--body-file", body), {"GITHUB_REPOSITORY": REPO})


def test_never_follows_links_or_redirects_to_another_host(fake: FakeGitHub,
                                                          tmp_path: Path) -> None:
    fake.add_pull(7)
    _noise(fake, 7, 3)
    env = _env(fake, tmp_path, _event(pulls=[7]))
    fake.base = "http://evil.invalid"  # the Link header now points elsewhere
    with pytest.raises(HarnessError, match="another host"):
        bot.comment_command(_args("--body-file", _body_file(tmp_path)), env)
    assert fake.writes() == []

    fake.redirect_to = "http://evil.invalid"
    client = bot.GitHubClient(env["GITHUB_API_URL"], TOKEN)
    with pytest.raises(HarnessError, match="redirected to another host"):
        client.get_pull(REPO, 7)


def test_cli_wiring_stays_light(tmp_path: Path) -> None:
    """The privileged job installs the harness with --no-deps: `startup-harness comment`
    must not import yaml, numpy, scipy, pandas or jsonschema."""
    body = _body_file(tmp_path)
    code = (
        "import sys\n"
        "from harness.cli import main\n"
        f"rc = main(['comment', '--dry-run', '--pr', '3', '--repo', {REPO!r}, "
        f"'--body-file', {body!r}])\n"
        "heavy = {'yaml', 'numpy', 'scipy', 'pandas', 'jsonschema', 'tabulate'} & "
        "set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "sys.exit(rc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(MARKER)


# --------------------------------------------------------------------------- faults (issue 13)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off waits recorded instead of slept."""
    from harness.github import api

    waits: list[float] = []
    monkeypatch.setattr(api, "BACKOFF_S", 0.001)
    monkeypatch.setattr(api, "MAX_WAIT_S", 0.01)
    real = api.GitHubClient.__init__

    def init(self: api.GitHubClient, *a: Any, **k: Any) -> None:
        real(self, *a, **k)
        self._sleep = waits.append  # type: ignore[method-assign]

    monkeypatch.setattr(api.GitHubClient, "__init__", init)
    return waits


@pytest.mark.parametrize("failure", [
    (500, {}, "Server Error"), (502, {}, "Bad Gateway"),
    (429, {"Retry-After": "1"}, "slow down"),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999999999"},
     "API rate limit exceeded"),
    (403, {"Retry-After": "2"}, "You have exceeded a secondary rate limit"),
])
def test_retries_5xx_429_and_rate_limited_403(fake: FakeGitHub, tmp_path: Path,
                                              quick_retries: list[float],
                                              failure: tuple[int, dict[str, str], str]) -> None:
    fake.add_pull(7)
    fake.inject = [failure, failure]
    env = _env(fake, tmp_path, _event(pulls=[7]))
    assert bot.comment_command(_args("--body-file", _body_file(tmp_path)), env) == 0
    assert [m for m, _ in fake.writes()] == ["POST"]
    assert len(quick_retries) == 2 and all(w <= 0.01 for w in quick_retries)  # capped


def test_retries_are_bounded_and_the_hint_names_the_rate_limit(
        fake: FakeGitHub, tmp_path: Path, quick_retries: list[float]) -> None:
    fake.add_pull(7)
    fake.inject = [(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"},
                    "API rate limit exceeded")] * 10
    env = _env(fake, tmp_path, _event(pulls=[7]))
    with pytest.raises(HarnessError) as info:
        bot.comment_command(_args("--body-file", _body_file(tmp_path)), env)
    assert "rate limit" in info.value.hint and "pull-requests" not in info.value.hint
    assert len(quick_retries) == 4 and fake.writes() == []


def test_plain_403_is_not_retried_and_blames_permissions(
        fake: FakeGitHub, tmp_path: Path, quick_retries: list[float]) -> None:
    fake.add_pull(7)
    fake.inject = [(403, {}, "Resource not accessible by integration")]
    env = _env(fake, tmp_path, _event(pulls=[7]))
    with pytest.raises(HarnessError) as info:
        bot.comment_command(_args("--body-file", _body_file(tmp_path)), env)
    assert "pull-requests: write" in info.value.hint and quick_retries == []


def test_retry_wait_honours_headers_and_caps() -> None:
    from harness.github.api import retry_wait

    assert retry_wait(404, {}, 0, 2, 60) is None
    assert retry_wait(403, {}, 0, 2, 60) is None
    assert retry_wait(500, {}, 2, 2, 60) == 8
    assert retry_wait(429, {"retry-after": "7"}, 0, 2, 60) == 7
    assert retry_wait(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "130"}, 0, 2,
                      60, now=lambda: 100) == 31
    assert retry_wait(503, {"retry-after": "3600"}, 0, 2, 60) == 60


def test_token_is_redacted_from_every_message(fake: FakeGitHub, tmp_path: Path,
                                              quick_retries: list[float]) -> None:
    fake.add_pull(7)
    fake.inject = [(422, {}, f"Validation failed: token {TOKEN} is not allowed here")]
    env = _env(fake, tmp_path, _event(pulls=[7]))
    with pytest.raises(HarnessError) as info:
        bot.comment_command(_args("--body-file", _body_file(tmp_path)), env)
    assert TOKEN not in info.value.one_line() and "***" in info.value.one_line()


def test_fifo_body_file_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "comment.md"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def read() -> None:
        try:
            bot.read_body(fifo)
        except HarnessError as exc:
            done.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    assert done and "not a regular file" in str(done[0])


def test_sanitize_neutralizes_gh_refs_issue_urls_and_entities() -> None:
    body = bot.sanitize_body(
        f"{MARKER}\nsee GH-7 and gh-8, https://github.com/octo/other/issues/9 and "
        "https://github.com/octo/other/pull/10; &#64;alice &#x40;bob &commat;carol &#35;11 "
        "&#x23;12 &num;13\n")
    for raw in ("GH-7", "gh-8", "https://github.com/octo", "&#64;", "&#x40;", "&commat;",
                "&#35;", "&#x23;", "&num;", "@alice", "@bob", "@carol", "#11", "#12", "#13"):
        assert raw not in body, raw
    assert "GH-\u200b7" in body and "@\u200balice" in body and "#\u200b11" in body
    assert "github\u200b.com/octo/other/issues/9" in body
    assert bot.sanitize_body(body) == body
