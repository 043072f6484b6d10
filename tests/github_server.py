"""A loopback GitHub: the part of the REST API that the pull request flow uses
through PyGithub (git data, pull requests, their issue comments, commit statuses),
backed by a real bare git repository on disk, with switches that make given requests
fail the way GitHub fails or wait until released."""

import base64
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from typing_extensions import override

from tests.loopback import LoopbackServer, QuietHandler

API_PREFIX = "/api/v3"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Hatchet",
    "GIT_AUTHOR_EMAIL": "hatchet@localhost",
    "GIT_COMMITTER_NAME": "Hatchet",
    "GIT_COMMITTER_EMAIL": "hatchet@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": tempfile.gettempdir(),
}


class GitRepository:
    """A bare repository driven with git's plumbing commands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--bare", "--initial-branch=main")

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            input=input,
            capture_output=True,
            env={**os.environ, **GIT_ENV, **(env or {})},
            check=False,
        )
        if result.returncode != 0:
            raise GitError(result.stderr.decode(errors="replace").strip())
        return result.stdout.decode()

    def commit_files(self, branch: str, files: dict[str, str], message: str = "Seed") -> str:
        """A commit on `branch` (created from nothing or on its head) with these files."""
        parent = self.head(branch)
        tree = self.tree_with(
            parent and self.tree_of(parent), {p: self.blob(c.encode()) for p, c in files.items()}
        )
        sha = self.commit(tree, [parent] if parent else [], message)
        self.git("update-ref", f"refs/heads/{branch}", sha)
        return sha

    def blob(self, content: bytes) -> str:
        return self.git("hash-object", "-w", "--stdin", input=content).strip()

    def tree_with(
        self, base_tree: str | None, blobs: dict[str, str], modes: dict[str, str] | None = None
    ) -> str:
        index = self.path / f"index-{threading.get_ident()}"
        try:
            env = {"GIT_INDEX_FILE": str(index)}
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            else:
                self.git("read-tree", "--empty", env=env)
            for path, sha in blobs.items():
                mode = (modes or {}).get(path, "100644")
                self.git("update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}", env=env)
            return self.git("write-tree", env=env).strip()
        finally:
            index.unlink(missing_ok=True)

    def commit(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, input=message.encode()).strip()

    def head(self, branch: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").strip()
        except GitError:
            return None

    def tree_of(self, commit: str) -> str:
        return self.git("rev-parse", f"{commit}^{{tree}}").strip()

    def parents_of(self, commit: str) -> list[str]:
        return self.git("rev-list", "--parents", "-n", "1", commit).split()[1:]

    def message_of(self, commit: str) -> str:
        return self.git("log", "-1", "--format=%B", commit).rstrip("\n")

    def file_at(self, ref: str, path: str) -> bytes | None:
        try:
            result = subprocess.run(
                ["git", "cat-file", "blob", f"{ref}:{path}"],
                cwd=self.path,
                capture_output=True,
                check=True,
            )
        except subprocess.CalledProcessError:
            return None
        return result.stdout

    def blob_sha_at(self, ref: str, path: str) -> str:
        return self.git("rev-parse", f"{ref}:{path}").strip()

    def exists(self, sha: str) -> bool:
        try:
            self.git("cat-file", "-e", sha)
        except GitError:
            return False
        return True

    # What the tests look at.
    def diff(self, base: str, branch: str) -> str:
        return self.git("diff", f"refs/heads/{base}", f"refs/heads/{branch}")

    def commits_between(self, base: str, branch: str) -> list[str]:
        return self.git("rev-list", f"refs/heads/{base}..refs/heads/{branch}").split()

    def branches(self) -> list[str]:
        return self.git("for-each-ref", "--format=%(refname:short)", "refs/heads").split()


class GitError(Exception):
    pass


@dataclass
class Fault:
    """Answer requests matching `method` and `path` (a regex on the path after the
    API prefix) with `status`, `times` times."""

    method: str
    path: str
    status: int
    times: int = 1
    message: str = "Server Error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Comment:
    id: int
    issue: int
    body: str
    login: str = "hatchet-bot"


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str
    target_url: str


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    state: str = "open"
    merged: bool = False


class LoopbackGitHub(LoopbackServer):
    """The server's state: repositories by full name, pull requests, the token it
    accepts, faults to inject and every request it saw."""

    def __init__(self, root: Path, token: str, owner: str = "acme", name: str = "app") -> None:
        self.token = token
        self.owner, self.name = owner, name
        self.repo = GitRepository(root / f"{name}.git")
        self.pulls: dict[int, Pull] = {}
        self.comments: dict[int, Comment] = {}
        # Newest last; GitHub lists a commit's statuses newest first.
        self.statuses: list[Status] = []
        self.faults: list[Fault] = []
        self.holds: list[tuple[str, str, threading.Event]] = []
        self.requests: list[tuple[str, str]] = []
        self.authorizations: list[str] = []
        super().__init__(handler_for(self))

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def url(self) -> str:
        return f"{self.origin}{API_PREFIX}"

    @override
    def stop(self) -> None:
        for _, _, release in self.holds:
            release.set()
        super().stop()

    def fail(self, method: str, path: str, status: int, times: int = 1, **fields: Any) -> None:
        with self.lock:
            self.faults.append(Fault(method, path, status, times, **fields))

    def rate_limit(self, method: str, path: str, reset_in: int, times: int = 1) -> None:
        self.fail(
            method,
            path,
            403,
            times,
            message="API rate limit exceeded for installation.",
            headers={
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + reset_in),
            },
        )

    def hold(self, method: str, path: str) -> threading.Event:
        """Keep requests matching `method` and `path` (a regex) waiting, for at most
        10 s, until the event returned is set."""
        release = threading.Event()
        with self.lock:
            self.holds.append((method, path, release))
        return release

    def wait_if_held(self, method: str, path: str) -> None:
        with self.lock:
            releases = [r for m, p, r in self.holds if m == method and re.fullmatch(p, path)]
        for release in releases:
            release.wait(timeout=10)

    def fault_for(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and re.fullmatch(fault.path, path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(pattern, p))

    # The REST resources, each answering (status, body).
    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        repo_path = f"/repos/{self.owner}/{self.name}"
        if not path.startswith(repo_path):
            return 404, {"message": "Not Found"}
        rest = path[len(repo_path) :]
        with self.repo.lock:
            return self.repository_route(method, rest, query, body)

    def repository_route(
        self, method: str, rest: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        repo = self.repo
        if method == "GET" and rest == "":
            return 200, self.repository_json()
        if method == "GET" and rest.startswith("/git/ref/"):
            ref = unquote(rest[len("/git/ref/") :])
            sha = repo.head(ref.removeprefix("heads/")) if ref.startswith("heads/") else None
            if sha is None:
                return 404, {"message": "Not Found"}
            return 200, self.ref_json(f"refs/{ref}", sha)
        if method == "PATCH" and rest.startswith("/git/refs/"):
            ref = unquote(rest[len("/git/refs/") :])
            branch = ref.removeprefix("heads/")
            old = repo.head(branch)
            if old is None:
                return 422, {"message": "Reference does not exist"}
            if not repo.exists(body["sha"]):
                return 422, {"message": "Object does not exist"}
            if not body.get("force") and not self.is_ancestor(old, body["sha"]):
                return 422, {"message": "Update is not a fast forward"}
            repo.git("update-ref", f"refs/heads/{branch}", body["sha"])
            return 200, self.ref_json(f"refs/{ref}", body["sha"])
        if method == "POST" and rest == "/git/refs":
            ref = body["ref"]
            if not ref.startswith("refs/heads/"):
                return 422, {"message": "Reference name is invalid"}
            if repo.head(ref.removeprefix("refs/heads/")) is not None:
                return 422, {"message": "Reference already exists"}
            if not repo.exists(body["sha"]):
                return 422, {"message": "Object does not exist"}
            repo.git("update-ref", ref, body["sha"])
            return 201, self.ref_json(ref, body["sha"])
        if method == "GET" and rest.startswith("/contents/"):
            path = unquote(rest[len("/contents/") :])
            ref = query.get("ref", "main")
            content = repo.file_at(ref, path)
            if content is None:
                return 404, {"message": "Not Found"}
            return 200, {
                "type": "file",
                "encoding": "base64",
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "size": len(content),
                "sha": repo.blob_sha_at(ref, path),
                "content": base64.b64encode(content).decode(),
                "url": f"{self.url}/repos/{self.full_name}/contents/{path}",
            }
        if method == "GET" and rest.startswith("/git/commits/"):
            sha = rest[len("/git/commits/") :]
            if not repo.exists(sha):
                return 404, {"message": "Not Found"}
            return 200, self.commit_json(sha)
        if method == "POST" and rest == "/git/blobs":
            content = body["content"]
            data = (
                base64.b64decode(content)
                if body.get("encoding") == "base64"
                else content.encode("utf-8")
            )
            sha = repo.blob(data)
            return 201, {"sha": sha, "url": f"{self.url}/repos/{self.full_name}/git/blobs/{sha}"}
        if method == "POST" and rest == "/git/trees":
            base_tree = body.get("base_tree")
            if base_tree and not repo.exists(base_tree):
                return 422, {"message": "Invalid tree"}
            blobs = {e["path"]: e["sha"] for e in body["tree"]}
            modes = {e["path"]: e["mode"] for e in body["tree"]}
            sha = repo.tree_with(base_tree, blobs, modes)
            return 201, {"sha": sha, "url": f"{self.url}/repos/{self.full_name}/git/trees/{sha}"}
        if method == "POST" and rest == "/git/commits":
            if not repo.exists(body["tree"]):
                return 422, {"message": "Tree SHA does not exist"}
            sha = repo.commit(body["tree"], body.get("parents", []), body["message"])
            return 201, self.commit_json(sha)
        if method == "GET" and rest == "/pulls":
            return 200, [self.pull_json(p) for p in self.matching_pulls(query)]
        if method == "POST" and rest == "/pulls":
            return self.create_pull(body)
        match = re.fullmatch(r"/pulls/(\d+)", rest)
        if match:
            pull = self.pulls.get(int(match.group(1)))
            if pull is None:
                return 404, {"message": "Not Found"}
            if method == "PATCH":
                pull.title = body.get("title", pull.title)
                pull.body = body.get("body", pull.body)
                pull.state = body.get("state", pull.state)
            return 200, self.pull_json(pull)
        return self.issue_and_status_route(method, rest, body)

    def issue_and_status_route(self, method: str, rest: str, body: Any) -> tuple[int, Any]:
        """A pull request's issue comments and a commit's statuses, as GitHub has them."""
        match = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if match:
            number = int(match.group(1))
            if number not in self.pulls:
                return 404, {"message": "Not Found"}
            if method == "POST":
                if not body.get("body"):
                    return 422, {"message": "Validation Failed", "errors": [{"field": "body"}]}
                comment = Comment(max(self.comments, default=0) + 1, number, body["body"])
                self.comments[comment.id] = comment
                return 201, self.comment_json(comment)
            return 200, [self.comment_json(c) for c in self.comments.values() if c.issue == number]
        match = re.fullmatch(r"/issues/comments/(\d+)", rest)
        if match:
            found = self.comments.get(int(match.group(1)))
            if found is None:
                return 404, {"message": "Not Found"}
            if method == "PATCH":
                found.body = body.get("body", found.body)
            return 200, self.comment_json(found)
        match = re.fullmatch(r"/commits/([0-9a-f]{40})(/statuses)?", rest)
        if match and method == "GET":
            sha = match.group(1)
            if not self.repo.exists(sha):
                return 404, {"message": "Not Found"}
            if match.group(2):
                mine = [self.status_json(s) for s in reversed(self.statuses) if s.sha == sha]
                return 200, mine
            return 200, self.rest_commit_json(sha)
        match = re.fullmatch(r"/statuses/([0-9a-f]{40})", rest)
        if match and method == "POST":
            sha = match.group(1)
            if not self.repo.exists(sha):
                return 422, {"message": "No commit found for SHA: " + sha}
            if body.get("state") not in {"error", "failure", "pending", "success"}:
                return 422, {"message": "Validation Failed", "errors": [{"field": "state"}]}
            status = Status(
                len(self.statuses) + 1,
                sha,
                body["state"],
                body.get("context") or "default",
                body.get("description") or "",
                body.get("target_url") or "",
            )
            self.statuses.append(status)
            return 201, self.status_json(status)
        return 404, {"message": "Not Found"}

    def latest_status(self, sha: str, context: str) -> Status | None:
        """The status a pull request shows for `context` on the commit: the newest."""
        mine = [s for s in self.statuses if s.sha == sha and s.context == context]
        return mine[-1] if mine else None

    def is_ancestor(self, old: str, new: str) -> bool:
        try:
            self.repo.git("merge-base", "--is-ancestor", old, new)
        except GitError:
            return False
        return True

    def matching_pulls(self, query: dict[str, str]) -> list[Pull]:
        state = query.get("state", "open")
        head = query.get("head", "")
        return [
            pull
            for pull in self.pulls.values()
            if (state == "all" or pull.state == state)
            and (not head or head == f"{self.owner}:{pull.head}")
            and (not query.get("base") or query["base"] == pull.base)
        ]

    def create_pull(self, body: dict[str, Any]) -> tuple[int, Any]:
        head, base = body["head"].split(":")[-1], body["base"]
        if self.repo.head(head) is None or self.repo.head(base) is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head"}]}
        if any(p.head == head and p.state == "open" for p in self.pulls.values()):
            return 422, {
                "message": "Validation Failed",
                "errors": [{"message": f"A pull request already exists for {self.owner}:{head}."}],
            }
        number = max(self.pulls, default=0) + 1
        self.pulls[number] = Pull(number, body["title"], body.get("body") or "", head, base)
        return 201, self.pull_json(self.pulls[number])

    def repository_json(self) -> dict[str, Any]:
        return {
            "id": 1,
            "name": self.name,
            "full_name": self.full_name,
            "owner": {"login": self.owner},
            "default_branch": "main",
            "url": f"{self.url}/repos/{self.full_name}",
            "html_url": f"https://github.example/{self.full_name}",
        }

    def ref_json(self, ref: str, sha: str) -> dict[str, Any]:
        return {
            "ref": ref,
            "url": f"{self.url}/repos/{self.full_name}/git/{ref}",
            "object": {
                "sha": sha,
                "type": "commit",
                "url": f"{self.url}/repos/{self.full_name}/git/commits/{sha}",
            },
        }

    def commit_json(self, sha: str) -> dict[str, Any]:
        tree = self.repo.tree_of(sha)
        return {
            "sha": sha,
            "url": f"{self.url}/repos/{self.full_name}/git/commits/{sha}",
            "message": self.repo.message_of(sha),
            "tree": {"sha": tree, "url": f"{self.url}/repos/{self.full_name}/git/trees/{tree}"},
            "parents": [
                {"sha": p, "url": f"{self.url}/repos/{self.full_name}/git/commits/{p}"}
                for p in self.repo.parents_of(sha)
            ],
        }

    def rest_commit_json(self, sha: str) -> dict[str, Any]:
        git_commit = self.commit_json(sha)
        return {
            "sha": sha,
            "url": f"{self.url}/repos/{self.full_name}/commits/{sha}",
            "html_url": f"https://github.example/{self.full_name}/commit/{sha}",
            "commit": {**git_commit, "message": git_commit["message"]},
            "parents": git_commit["parents"],
        }

    def comment_json(self, comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "url": f"{self.url}/repos/{self.full_name}/issues/comments/{comment.id}",
            "html_url": (
                f"https://github.example/{self.full_name}/pull/{comment.issue}"
                f"#issuecomment-{comment.id}"
            ),
            "issue_url": f"{self.url}/repos/{self.full_name}/issues/{comment.issue}",
            "body": comment.body,
            "user": {"login": comment.login},
        }

    def status_json(self, status: Status) -> dict[str, Any]:
        return {
            "id": status.id,
            "url": f"{self.url}/repos/{self.full_name}/statuses/{status.sha}",
            "state": status.state,
            "context": status.context,
            "description": status.description,
            "target_url": status.target_url,
        }

    def pull_json(self, pull: Pull) -> dict[str, Any]:
        return {
            "number": pull.number,
            "url": f"{self.url}/repos/{self.full_name}/pulls/{pull.number}",
            "issue_url": f"{self.url}/repos/{self.full_name}/issues/{pull.number}",
            "html_url": f"https://github.example/{self.full_name}/pull/{pull.number}",
            "title": pull.title,
            "body": pull.body,
            "state": pull.state,
            "merged": pull.merged,
            "head": {"ref": pull.head, "label": f"{self.owner}:{pull.head}"},
            "base": {"ref": pull.base, "label": f"{self.owner}:{pull.base}"},
        }


def handler_for(github: LoopbackGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def do_PATCH(self) -> None:
            self.answer("PATCH")

        def answer(self, method: str) -> None:
            url = urlsplit(self.path)
            body = self.read_json()
            path = url.path.removeprefix(API_PREFIX)
            github.requests.append((method, path))
            github.wait_if_held(method, path)
            authorization = self.headers.get("Authorization", "")
            github.authorizations.append(authorization)
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() not in {"token", "bearer"} or secret != github.token:
                self.send_json(401, {"message": "Bad credentials"})
                return
            fault = github.fault_for(method, path)
            if fault is not None:
                self.send_json(fault.status, {"message": fault.message}, fault.headers)
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                status, answer = github.route(method, path, query, body)
            except GitError as error:
                status, answer = 500, {"message": f"git failed: {error}"}
            self.send_json(status, answer)

    return Handler
