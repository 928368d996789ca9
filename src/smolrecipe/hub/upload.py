"""The upload: the token and its rights checked first, then one huggingface_hub upload_folder per revision.

    token = find_token()                       # HF_TOKEN, else the huggingface_hub login; never printed or written
    with redacted(token):                      # whatever is printed meanwhile has the token blanked out
        access = check_access(api, plan)       # 401, read-only token, foreign namespace, 403: exit 2 before any upload
        staged = stage(plan)                   # outputs/hub/<repo>/<revision>/: links to the files + generated card
        push(api, plan, staged, access)        # create repo and branches, upload_folder each revision, journal

upload_folder (huggingface_hub 1.33) commits in batches and skips files the Hub already holds, so a rerun after a
failure sends only what is missing. The journal (outputs/hub/<repo>/push.jsonl) records each revision's commit
under the push's run key (smolrecipe.runkey: the files sent and the target): a rerun of the same push says it
resumes and skips the revisions whose branch still points at the recorded commit; a push of other files starts
fresh and says so. A failure mid-upload ends with what was sent and what was not, asked of the Hub itself.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.hub.plan import PushPlan, Revision
from smolrecipe.paths import outputs_dir, shown
from smolrecipe.publish import append_jsonl, publishing, read_jsonl
from smolrecipe.runkey import run_key

TOKEN_PAGE = "https://huggingface.co/settings/tokens"
SCAN_LIMIT = 10 * 1024 * 1024  # text files up to this size are checked for the token before they are sent


class UploadFailed(Exception):
    """An upload that broke off (an error or Ctrl-C); its message says what was sent, what was not, and that a rerun
    resumes."""

    def __init__(self, report: str, interrupted: bool = False):
        super().__init__(report)
        self.interrupted = interrupted


@dataclass
class Access:
    user: str
    exists: bool
    token_source: str


# ------------------------------------------------------------------------------------------- the token
def token_source() -> str:
    return "HF_TOKEN" if os.environ.get("HF_TOKEN") else "the huggingface_hub login (`hf auth login`)"


def find_token() -> str:
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise RecipeError("no Hugging Face token: HF_TOKEN is not set and there is no huggingface_hub login",
                          field="HF_TOKEN",
                          fix=f"run `hf auth login` (or export HF_TOKEN=...) with a token that has write access ({TOKEN_PAGE}); "
                              "DRY_RUN=1 shows what would be sent without one")
    return token


class _Redacting(io.TextIOBase):
    def __init__(self, stream, secret: str):
        self.stream, self.secret = stream, secret

    def write(self, text: str) -> int:
        self.stream.write(text.replace(self.secret, "hf_***"))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):
        return getattr(self.stream, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self.stream, "errors", None)


@contextlib.contextmanager
def redacted(token: str):
    """stdout and stderr with the token blanked out: belt and braces over messages that never include it."""
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Redacting(sys.stdout, token), _Redacting(sys.stderr, token)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old


def refuse_token_in_files(plan: PushPlan, token: str) -> None:
    """No file that is sent may contain the token (a recipe YAML with hub_token: ..., a pasted log)."""
    needle = token.encode()
    for rev in plan.revisions:
        for path, data in rev.generated.items():
            if needle in data:
                raise RecipeError("a generated file would contain your Hub token", file=path, fix="report this as a bug; nothing was sent")
        for path, local in rev.files.items():
            if local.stat().st_size <= SCAN_LIMIT and needle in local.read_bytes():
                raise RecipeError(f"this file contains your Hub token and would be published as {path}", file=shown(local),
                                  fix="remove the token from the file (and revoke it if it was ever shared); nothing was sent")


# ------------------------------------------------------------------------------------------- rights
def _status(e: Exception) -> int | None:
    resp = getattr(e, "response", None)
    return getattr(resp, "status_code", None)


def _unreachable(api, e: Exception) -> RecipeError:
    return RecipeError(f"cannot reach the Hub at {api.endpoint}: {type(e).__name__}: {e}", field="HF_ENDPOINT",
                       fix="check the network (or HF_ENDPOINT) and push again; nothing was sent")


def check_online() -> None:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise RecipeError("HF_HUB_OFFLINE=1 is set, so huggingface_hub refuses every upload", field="HF_HUB_OFFLINE",
                          fix="unset HF_HUB_OFFLINE for the push (DRY_RUN=1 works offline)")


def check_access(api, plan: PushPlan, token: str) -> Access:
    """Who the token is, and whether it may write `plan.repo_id`: every refusal is exit 2, before any upload."""
    import httpx
    from huggingface_hub.errors import HfHubHTTPError

    check_online()
    source = token_source()
    try:
        me = api.whoami(token=token)
    except HfHubHTTPError as e:
        if _status(e) == 401:
            raise RecipeError("the Hub refused the token (401 Unauthorized): it is wrong, expired or revoked", field=source,
                              fix=f"create a token with write access at {TOKEN_PAGE}, then `hf auth login` or HF_TOKEN=...") from None
        raise _unreachable(api, e) from None
    except (OSError, httpx.TransportError) as e:
        raise _unreachable(api, e) from None
    user = me.get("name", "?")
    role = ((me.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise RecipeError(f"the token of {user} is read-only", field=source,
                          fix=f"create a token with write access at {TOKEN_PAGE} and log in with it")
    namespace = plan.repo_id.split("/")[0]
    orgs = {o.get("name"): o.get("roleInOrg") for o in me.get("orgs") or []}
    if namespace != user and namespace not in orgs:
        raise RecipeError(f"{user} cannot write to the namespace {namespace!r}: it is not your user name and not one of "
                          f"your organisations ({', '.join(orgs) or 'none'})", field="REPO",
                          fix=f"push to {user}/{plan.repo_id.split('/')[1]}, or join the organisation {namespace}")
    try:
        api.auth_check(plan.repo_id, repo_type=plan.repo_type, token=token, write=True)
        exists = True
    except HfHubHTTPError as e:
        status = _status(e)
        if status == 404:
            exists = False
            if orgs.get(namespace) == "read":
                raise RecipeError(f"{user} has read-only rights in the organisation {namespace} and cannot create {plan.repo_id}",
                                  field="REPO", fix=f"ask an admin of {namespace} for write access, or push to {user}/...") from None
        elif status == 403:
            raise RecipeError(f"the token of {user} has no write access to {plan.repo_id} (403 Forbidden)", field="REPO",
                              fix=f"ask an admin of {namespace} for write access (a fine-grained token needs write access "
                                  f"to this repo), or push to a repo of your own: REPO={user}/{plan.repo_id.split('/')[1]}") from None
        elif status == 401:
            raise RecipeError("the Hub refused the token (401 Unauthorized) for this repo", field=source,
                              fix=f"create a token with write access at {TOKEN_PAGE}") from None
        else:
            raise _unreachable(api, e) from None
    return Access(user, exists, source)


# ------------------------------------------------------------------------------------------- staging
def hub_dir(repo_id: str) -> Path:
    return outputs_dir() / "hub" / repo_id.replace("/", "__")


def stage(plan: PushPlan) -> dict[str, Path]:
    """One folder per revision under outputs/hub/<repo>/: symbolic links to the files, the generated files written.

    upload_folder sends a folder; links keep multi-GB weights from being copied. Written atomically (publish)."""
    out = {}
    for rev in plan.revisions:
        final = hub_dir(plan.repo_id) / rev.name.replace("/", "__")
        with publishing(final) as tmp:
            for path, local in rev.files.items():
                (tmp / path).parent.mkdir(parents=True, exist_ok=True)
                os.symlink(local.resolve(), tmp / path)
            for path, data in rev.generated.items():
                (tmp / path).parent.mkdir(parents=True, exist_ok=True)
                (tmp / path).write_bytes(data)
        out[rev.name] = final
    return out


def push_key(plan: PushPlan, staged: dict[str, Path]) -> str:
    return run_key("push", reads=[staged[r.name] for r in plan.revisions],
                   config={"repo": plan.repo_id, "type": plan.repo_type, "revisions": [r.name for r in plan.revisions]})


# ------------------------------------------------------------------------------------------- what the Hub holds
def _git_sha1(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def remote_state(api, plan: PushPlan, rev: Revision, folder: Path) -> tuple[list[str], list[str]]:
    """(files of `rev` the Hub holds with the same content, files it does not), asked of the Hub (paths-info)."""
    paths = sorted(rev.sizes())
    try:
        infos = {i.path: i for i in api.get_paths_info(plan.repo_id, paths, revision=rev.name, repo_type=plan.repo_type)}
    except Exception:  # the branch may not exist yet, or the Hub is still failing
        return [], paths
    sent, missing = [], []
    for p in paths:
        info, local = infos.get(p), folder / p
        same = info is not None and info.size == local.stat().st_size and (
            info.lfs.sha256 == _sha256(local) if info.lfs else info.blob_id == _git_sha1(local))
        (sent if same else missing).append(p)
    return sent, missing


# ------------------------------------------------------------------------------------------- the push
def journal_path(repo_id: str) -> Path:
    return hub_dir(repo_id) / "push.jsonl"


def done_revisions(repo_id: str, key: str, log) -> dict[str, str]:
    """revision -> commit recorded by an earlier run of the same push; says whether this one resumes or starts fresh."""
    records, _ = read_jsonl(journal_path(repo_id))
    done = {r["revision"]: r["commit"] for r in records if r.get("key") == key and r.get("event") == "revision-done"}
    if done:
        log(f"resuming push {key}: {len(done)} revision(s) were sent by an earlier run ({', '.join(done)})")
    elif any(r.get("key") != key for r in records):
        log(f"starting a fresh push {key} (the files or the target differ from the earlier pushes to {repo_id})")
    else:
        log(f"starting push {key}")
    return done


def push(api, plan: PushPlan, staged: dict[str, Path], access: Access, token: str, log=print) -> list[str]:
    """Create the repo and the branches, upload every revision (branches first, main last); returns commit URLs."""
    from huggingface_hub.errors import HfHubHTTPError

    key = push_key(plan, staged)
    done = done_revisions(plan.repo_id, key, log)
    if not access.exists:
        try:
            api.create_repo(plan.repo_id, repo_type=plan.repo_type, private=plan.private, token=token, exist_ok=True)
        except HfHubHTTPError as e:
            raise RecipeError(f"the Hub refused to create {plan.repo_id} ({_status(e)}): {e}", field="REPO",
                              fix=f"push to a namespace where {access.user} may create repos") from None
        log(f"created {plan.repo_type} repo {plan.repo_id} ({'private' if plan.private else 'public'})")
    heads = _branch_heads(api, plan, token)
    urls, finished = [], []
    for rev in plan.revisions:
        if rev.name in done and heads.get(rev.name) == done[rev.name]:
            log(f"  {rev.name}: already on the Hub (commit {done[rev.name][:10]}), skipped")
            finished.append(rev)
            continue
        try:
            urls.append(_upload_revision(api, plan, rev, staged[rev.name], token, log))
        except KeyboardInterrupt:
            raise UploadFailed(failure_report(api, plan, rev, staged, finished, "interrupted (Ctrl-C)"), interrupted=True) from None
        except Exception as e:
            raise UploadFailed(failure_report(api, plan, rev, staged, finished, e)) from None
        append_jsonl(journal_path(plan.repo_id), {"event": "revision-done", "key": key, "revision": rev.name,
                                                  "commit": urls[-1].rsplit("/", 1)[-1], "files": len(rev.sizes()),
                                                  "bytes": sum(rev.sizes().values()), "time": time.time()})
        finished.append(rev)
    return urls


def _branch_heads(api, plan: PushPlan, token: str) -> dict[str, str]:
    try:
        refs = api.list_repo_refs(plan.repo_id, repo_type=plan.repo_type, token=token)
    except Exception:
        return {}
    return {b.name: b.target_commit for b in refs.branches}


def _upload_revision(api, plan: PushPlan, rev: Revision, folder: Path, token: str, log) -> str:
    sizes = rev.sizes()
    if rev.name != "main":
        api.create_branch(plan.repo_id, branch=rev.name, repo_type=plan.repo_type, token=token, exist_ok=True)
    log(f"  {rev.name}: uploading {len(sizes)} files, {sum(sizes.values()):,} bytes")
    info = api.upload_folder(
        repo_id=plan.repo_id, folder_path=folder, repo_type=plan.repo_type, revision=rev.name, token=token,
        commit_message=f"smolrecipe push: {plan.kind} {rev.name}",
        # a checkpoint branch holds exactly its checkpoint (a branch starts as a copy of main)
        delete_patterns=["*"] if rev.name != "main" else None)
    log(f"  {rev.name}: committed {info.oid[:10]} ({info.commit_url})")
    return info.commit_url


def failure_report(api, plan: PushPlan, failed: Revision, staged: dict[str, Path], finished: list[Revision], error) -> str:
    sent, missing = remote_state(api, plan, failed, staged[failed.name])
    later = [r for r in plan.revisions if r is not failed and r not in finished]
    why = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    lines = [f"the upload to {plan.repo_id} broke off at revision {failed.name}: {why}".rstrip()]
    lines.append("  sent:     " + (", ".join(f"{r.name} ({len(r.sizes())} files)" for r in finished) or "no revision yet"))
    lines.append(f"  {failed.name}: {len(sent)} of {len(sent) + len(missing)} files on the Hub"
                 + (f"; not sent: {', '.join(missing)}" if missing else ""))
    if later:
        lines.append("  not sent: " + ", ".join(f"{r.name} ({len(r.sizes())} files)" for r in later))
    lines.append("  fix: run the same command again: it resumes, and files already on the Hub are not sent twice")
    return "\n".join(lines)
