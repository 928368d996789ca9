"""A small Hugging Face Hub on 127.0.0.1 for the push tests: the part of the Hub API huggingface_hub 1.33 uses.

Written from huggingface_hub's client code (hf_api.py, _commit_api.py, lfs.py, _upload_pipeline.py, file_download.py):

    GET  /api/whoami-v2                                     who the token belongs to, its role, the user's orgs
    GET  /api/{type}s/{repo}/auth-check[/write]             401 bad token, 404 no such repo, 403 no write access
    POST /api/repos/create                                  creates the repo with an initial .gitattributes commit
    POST /api/validate-yaml                                 the README front matter parses as YAML
    POST /api/{type}s/{repo}/preupload/{rev}                upload mode per file ("regular" or "lfs") + remote oid
    POST /{prefix}{repo}.git/info/lfs/objects/batch         LFS batch: an upload + verify action per missing object
    PUT  /lfs-upload/{sha256}      POST /lfs-verify         the large-file path (body checked against its sha256)
    POST /api/{type}s/{repo}/commit/{rev}                   NDJSON commit: header, base64 files, lfsFile pointers
    POST /api/{type}s/{repo}/branch/{name}                  a branch from main (409 when it exists)
    GET  /api/{type}s/{repo}/refs, /revision/{rev}          branches; repo info at a revision
    GET  /api/{type}s/{repo}/tree/{rev}                     every file of a revision (upload_folder's delete_patterns)
    POST /api/{type}s/{repo}/paths-info/{rev}               blob ids and LFS sha256 of given paths
    GET|HEAD /{prefix}{repo}/resolve/{rev}/{path}           file download (what hf_hub_download / ModelCard.load use)

Everything lives in memory; `hub.files(repo, rev)` returns what a revision holds, byte for byte. `hub.fail_commits_to`
makes commits to the named revisions fail with HTTP 500 (a server failure mid-upload) until it is cleared.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n"
LFS_SIZE = 10 * 1024 * 1024  # the Hub stores files over 10 MB (and binary files) in LFS


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class Blob:
    data: bytes | None = None        # a regular file
    sha256: str | None = None        # an LFS file (its content is in FakeHub.lfs)
    size: int = 0

    def oid(self) -> str:
        return git_blob_sha1(self.data) if self.sha256 is None else git_blob_sha1(lfs_pointer(self.sha256, self.size))


@dataclass
class Repo:
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, Blob]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)


class FakeHub:
    def __init__(self, tokens: dict[str, dict], *, regular_only: bool = False):
        """tokens: token -> {"user": name, "role": "write"|"read", "orgs": {org: roleInOrg}}."""
        self.tokens, self.regular_only = tokens, regular_only
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.fail_commits_to: set[str] = set()
        self.log: list[tuple[str, str, int]] = []
        self.authorizations: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ what tests read
    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, bytes]:
        repo = self.repos[(repo_type, repo_id)]
        tree = repo.commits[repo.branches[revision]]
        return {p: (b.data if b.sha256 is None else self.lfs[b.sha256]) for p, b in tree.items()}

    def lfs_paths(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> set[str]:
        repo = self.repos[(repo_type, repo_id)]
        return {p for p, b in repo.commits[repo.branches[revision]].items() if b.sha256 is not None}

    def branches(self, repo_id: str, repo_type: str = "model") -> dict[str, str]:
        return dict(self.repos[(repo_type, repo_id)].branches)

    def writes(self) -> list[tuple[str, str, int]]:
        return [e for e in self.log if e[0] in ("POST", "PUT") and "whoami" not in e[1] and "validate-yaml" not in e[1]]

    # ------------------------------------------------------------------ permissions
    def who(self, auth: str | None) -> dict | None:
        if not auth or not auth.lower().startswith("bearer "):
            return None
        return self.tokens.get(auth.split(" ", 1)[1].strip())

    @staticmethod
    def can_write(who: dict, namespace: str) -> bool:
        if who.get("role") == "read":
            return False
        return namespace == who["user"] or who.get("orgs", {}).get(namespace) in ("write", "admin", "contributor")

    def commit(self, repo: Repo, branch: str, tree: dict[str, Blob], message: str) -> str:
        parent = repo.branches.get(branch, "")
        digest = hashlib.sha1(parent.encode() + message.encode())
        for p in sorted(tree):
            digest.update(p.encode() + b"\0" + tree[p].oid().encode())
        oid = digest.hexdigest()
        repo.commits[oid], repo.messages[oid], repo.branches[branch] = tree, message, oid
        return oid


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest output clean
            pass

        # -------------------------------------------------------------- plumbing
        def body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def reply(self, status: int, payload=None, *, headers: dict | None = None, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            hub.log.append((self.command, self.path, status))

        def error(self, status: int, message: str, code: str | None = None) -> None:
            self.reply(status, {"error": message}, headers={"X-Error-Code": code} if code else None)

        def do_GET(self):
            self.route()

        def do_HEAD(self):
            self.route()

        def do_POST(self):
            self.route()

        def do_PUT(self):
            self.route()

        # -------------------------------------------------------------- routing
        def route(self) -> None:
            auth = self.headers.get("Authorization")
            if auth:
                hub.authorizations.append(auth)
            who = hub.who(auth)
            path = urlsplit(self.path).path
            parts = [unquote(p) for p in path.strip("/").split("/")]
            data = self.body() if self.command in ("POST", "PUT") else b""
            with hub.lock:
                try:
                    self.dispatch(parts, who, auth, data)
                except Exception as e:  # a bug in this server shows up as a 500 with its message
                    self.error(500, f"test server error: {e!r}")

        def dispatch(self, parts: list[str], who, auth, data: bytes) -> None:
            if parts[:2] == ["api", "whoami-v2"]:
                return self.whoami(who)
            if parts[:3] == ["api", "repos", "create"]:
                return self.create(who, json.loads(data))
            if parts[:2] == ["api", "validate-yaml"]:
                return self.validate_yaml(json.loads(data))
            if parts[0] == "lfs-upload" and self.command == "PUT":
                return self.lfs_put(parts[1], data)
            if parts[0] == "lfs-verify":
                body = json.loads(data)
                return self.reply(200 if body["oid"] in hub.lfs else 404, {})
            if parts[0] == "api" and parts[1] in ("models", "datasets") and len(parts) >= 5:
                rtype, repo_id, action, rest = parts[1][:-1], "/".join(parts[2:4]), parts[4], parts[5:]
                return self.repo_api(who, rtype, repo_id, action, rest, data)
            rtype = "dataset" if parts[0] == "datasets" else "model"
            parts = parts[1:] if parts[0] == "datasets" else parts
            if len(parts) >= 2 and parts[1].endswith(".git") and parts[2:] == ["info", "lfs", "objects", "batch"]:
                return self.lfs_batch(who, rtype, f"{parts[0]}/{parts[1][:-4]}", json.loads(data))
            if len(parts) >= 5 and parts[2] == "resolve":
                return self.resolve(who, rtype, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
            self.error(404, f"no route for {self.command} {self.path}")

        # -------------------------------------------------------------- endpoints
        def whoami(self, who) -> None:
            if who is None:
                return self.error(401, "Invalid credentials in Authorization header")
            orgs = [{"type": "org", "name": o, "roleInOrg": r} for o, r in who.get("orgs", {}).items()]
            self.reply(200, {"type": "user", "name": who["user"], "fullname": who["user"], "orgs": orgs,
                             "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": who["role"]}}})

        def create(self, who, body: dict) -> None:
            if who is None:
                return self.error(401, "Invalid credentials in Authorization header")
            rtype, ns = body.get("type") or "model", body.get("organization") or who["user"]
            repo_id = f"{ns}/{body['name']}"
            if not hub.can_write(who, ns):
                return self.error(403, f'You don\'t have the rights to create a {rtype} under the namespace "{ns}"')
            if (rtype, repo_id) in hub.repos:
                return self.error(409, f"You already created this {rtype} repo")
            repo = hub.repos[(rtype, repo_id)] = Repo(private=body.get("visibility") == "private" or bool(body.get("private")))
            hub.commit(repo, "main", {".gitattributes": Blob(data=GITATTRIBUTES)}, "initial commit")
            self.reply(200, {"url": f"{hub.url}/{'datasets/' if rtype == 'dataset' else ''}{repo_id}", "name": repo_id})

        def validate_yaml(self, body: dict) -> None:
            text = body.get("content", "")
            if text.startswith("---"):
                try:
                    meta = yaml.safe_load(text.split("---", 2)[1])
                except yaml.YAMLError as e:
                    return self.reply(400, {"errors": [{"message": f"invalid YAML: {e}"}]})
                if meta is not None and not isinstance(meta, dict):
                    return self.reply(400, {"errors": [{"message": "metadata must be a mapping"}]})
            self.reply(200, {"errors": [], "warnings": []})

        def repo_api(self, who, rtype, repo_id, action, rest, data) -> None:
            repo = hub.repos.get((rtype, repo_id))
            visible = repo is not None and (not repo.private or (who and hub.can_write(who, repo_id.split("/")[0])))
            if action == "auth-check":
                if who is None:
                    return self.error(401, "Invalid credentials in Authorization header")
                if not visible:
                    return self.error(404, "Repository not found", "RepoNotFound")
                if rest == ["write"] and not hub.can_write(who, repo_id.split("/")[0]):
                    return self.error(403, f"You don't have write access to {repo_id}")
                return self.reply(200, {})
            if not visible:
                return self.error(404 if who else 401, "Repository not found", "RepoNotFound")
            writes = action in ("preupload", "commit", "branch")
            if writes and (who is None or not hub.can_write(who, repo_id.split("/")[0])):
                return self.error(403, f"You don't have write access to {repo_id}")
            rev = ("/".join(rest) if action != "tree" else rest[0]) if rest else "main"
            if action == "refs":
                branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": c} for b, c in repo.branches.items()]
                return self.reply(200, {"branches": branches, "tags": [], "converts": [], "pullRequests": []})
            if action == "branch":
                if rev in repo.branches:
                    return self.error(409, f"Reference refs/heads/{rev} already exists")
                start = json.loads(data or b"{}").get("startingPoint") or "main"
                repo.branches[rev] = repo.branches[start]
                return self.reply(200, {})
            if rev not in repo.branches:
                return self.error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            tree = repo.commits[repo.branches[rev]]
            if action == "revision":
                return self.reply(200, {"id": repo_id, "sha": repo.branches[rev], "private": repo.private,
                                        "siblings": [{"rfilename": p} for p in sorted(tree)]})
            if action == "tree":  # recursive listing (list_repo_files, used by upload_folder's delete_patterns)
                under = "/".join(rest[1:])
                return self.reply(200, [{"type": "file", "path": p, "size": b.size, "oid": b.oid()}
                                        for p, b in sorted(tree.items()) if p.startswith(under)])
            if action == "paths-info":
                paths = parse_qs(data.decode()).get("paths", [])
                out = []
                for p in paths:
                    if p in tree:
                        b = tree[p]
                        info = {"type": "file", "path": p, "size": b.size, "oid": b.oid()}
                        if b.sha256 is not None:
                            info["lfs"] = {"oid": b.sha256, "size": b.size, "pointerSize": len(lfs_pointer(b.sha256, b.size))}
                        out.append(info)
                return self.reply(200, out)
            if action == "preupload":
                return self.preupload(tree, json.loads(data))
            if action == "commit":
                return self.commit(repo, repo_id, rtype, rev, tree, data)
            self.error(404, f"unknown action {action}")

        def preupload(self, tree: dict[str, Blob], body: dict) -> None:
            files = []
            for f in body["files"]:
                sample = base64.b64decode(f["sample"])
                lfs = not hub.regular_only and (f["size"] > LFS_SIZE or b"\0" in sample)
                entry = {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
                old = tree.get(f["path"])
                if old is not None:
                    entry["oid"] = old.sha256 if old.sha256 is not None else git_blob_sha1(old.data)
                files.append(entry)
            self.reply(200, {"files": files, "commitOid": "0" * 40})

        def commit(self, repo: Repo, repo_id: str, rtype: str, rev: str, tree: dict[str, Blob], data: bytes) -> None:
            if rev in hub.fail_commits_to:
                return self.error(500, "Internal Error - We're working hard to fix this as soon as possible!")
            new, header = dict(tree), {}
            for line in data.decode().splitlines():
                item = json.loads(line)
                key, value = item["key"], item["value"]
                if key == "header":
                    header = value
                elif key == "file":
                    content = base64.b64decode(value["content"])
                    new[value["path"]] = Blob(data=content, size=len(content))
                elif key == "lfsFile":
                    if value["oid"] not in hub.lfs:
                        return self.error(422, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                    new[value["path"]] = Blob(sha256=value["oid"], size=len(hub.lfs[value["oid"]]))
                elif key in ("deletedFile", "deletedFolder"):
                    new = {p: b for p, b in new.items() if p != value["path"] and not p.startswith(value["path"].rstrip("/") + "/")}
            oid = hub.commit(repo, rev, new, header.get("summary", ""))
            prefix = "datasets/" if rtype == "dataset" else ""
            self.reply(200, {"commitUrl": f"{hub.url}/{prefix}{repo_id}/commit/{oid}", "commitOid": oid, "pullRequestUrl": None})

        def lfs_batch(self, who, rtype: str, repo_id: str, body: dict) -> None:
            if who is None or not hub.can_write(who, repo_id.split("/")[0]):
                return self.error(403, f"You don't have write access to {repo_id}")
            objects = []
            for o in body["objects"]:
                entry = {"oid": o["oid"], "size": o["size"], "authenticated": True}
                if o["oid"] not in hub.lfs:
                    entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}", "header": {}},
                                        "verify": {"href": f"{hub.url}/lfs-verify", "header": {}}}
                objects.append(entry)
            self.reply(200, {"transfer": "basic", "objects": objects})

        def lfs_put(self, oid: str, data: bytes) -> None:
            if hashlib.sha256(data).hexdigest() != oid:
                return self.error(400, "the uploaded content does not match its sha256")
            hub.lfs[oid] = data
            self.reply(200, {})

        def resolve(self, who, rtype: str, repo_id: str, rev: str, path: str) -> None:
            repo = hub.repos.get((rtype, repo_id))
            if repo is None or (repo.private and not (who and hub.can_write(who, repo_id.split("/")[0]))):
                return self.error(404, "Repository not found", "RepoNotFound")
            if rev not in repo.branches:
                return self.error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            blob = repo.commits[repo.branches[rev]].get(path)
            if blob is None:
                return self.error(404, f"{path} does not exist", "EntryNotFound")
            content = blob.data if blob.sha256 is None else hub.lfs[blob.sha256]
            headers = {"X-Repo-Commit": repo.branches[rev], "ETag": f'"{blob.oid()}"'}
            if blob.sha256 is not None:
                headers.update({"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(blob.size)})
            self.reply(200, raw=content, headers=headers)

    return Handler
