"""Stack-Edu's file contents, fetched by blob id from Software Heritage's public S3 bucket (a datatrove step).

    [hub_reader("stack-edu", language="Python"), FetchBlobContents(), EduClassifierFilter(...), tokenizer]

HuggingFaceTB/stack-edu publishes ids and metadata only (blob_id, src_encoding, repo_name, path, scores,
licences). Per its data set card the files are gzip objects at s3://softwareheritage/content/<blob_id>,
each decoded with its own `src_encoding`. This step reads them anonymously through s3fs (the S3 filesystem
of fsspec, which datatrove's own I/O is built on), a batch of blobs at once, and
  - retries transient errors (throttling, 5xx, dropped connections) with exponential backoff (`fetch_retries`);
  - counts every blob it cannot use, by reason, and writes those documents to `misses_writer` when given:
    missing_blob (404), access_denied (403, also what S3 answers for a missing key when listing is not
    allowed), corrupt_blob (not gzip), bad_blob_id (not 40 hex digits);
  - counts files that did not decode cleanly (decoded_with_replacement, unknown_encoding) and keeps them;
  - fails the task when a transient error outlasts the retries, or when the first MISS_PROBE blobs of a
    task all miss (a wrong bucket, endpoint or credentials, not bad luck); a rerun retries that task.
Resuming is datatrove's: the completed tasks of a keyed run are skipped when it is run again.
A local folder laid out like the bucket (<folder>/<blob_id>, gzip files) is read the same way (fsspec's
local filesystem): a mirror of the bucket, or the tests' stand-in.
"""
from __future__ import annotations

import argparse
import codecs
import contextlib
import gzip
import re
import time
import zlib

from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched

SWH_CONTENTS = "s3://softwareheritage/content"
SWH_REGION = "us-east-1"  # where the bucket lives (AWS Open Data registry): the cheapest place to run the fetch
BLOB_ID = re.compile(r"[0-9a-f]{40}")
MISS_PROBE = 100
MISS_REASONS = ("missing_blob", "access_denied", "corrupt_blob", "bad_blob_id")
NOTES = ("decoded_with_replacement", "unknown_encoding")


def contents_filesystem(contents: str, *, anonymous: bool = True, endpoint_url: str | None = None,
                        region: str = SWH_REGION):
    """(fsspec filesystem, root path) for the bucket (s3://...) or a local folder laid out like it."""
    import fsspec

    options = {}
    if fsspec.utils.get_protocol(contents) in ("s3", "s3a"):
        client = {"region_name": region, **({"endpoint_url": endpoint_url} if endpoint_url else {})}
        # botocore's own retries off: every retry is this step's, with its backoff, and counted in the stats;
        # max_concurrency=1: one GET per file (s3fs otherwise sends a HEAD first to split large files, and
        # source files are small)
        options = {"anon": anonymous, "client_kwargs": client, "config_kwargs": {"retries": {"total_max_attempts": 1}},
                   "max_concurrency": 1}
    fs, root = fsspec.core.url_to_fs(contents, **options)
    return fs, root.rstrip("/")


def decode_blob(raw: bytes, encoding: str | None) -> tuple[str, str | None]:
    """(text, note): gunzip, then decode with the file's own encoding; `note` names what was not clean.

    Raises gzip.BadGzipFile / EOFError / zlib.error for a blob that is not gzip."""
    data = gzip.decompress(raw)
    note = None
    try:
        codec = codecs.lookup(encoding or "utf-8").name
    except LookupError:
        codec, note = "utf-8", "unknown_encoding"
    try:
        return data.decode(codec), note
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace"), note or "decoded_with_replacement"


def _failure(err: BaseException) -> str:
    if isinstance(err, FileNotFoundError):
        return "missing_blob"
    if isinstance(err, PermissionError):
        return "access_denied"
    return "transient"


class FetchBlobContents(PipelineStep):
    """Replaces each Stack-Edu document's text (its blob id) with the file's decoded contents."""

    name = "🗄️ Software Heritage contents"
    type = "📥 - FETCH"

    def __init__(self, contents: str = SWH_CONTENTS, *, anonymous: bool = True, endpoint_url: str | None = None,
                 region: str = SWH_REGION, batch_size: int = 64, retries: int = 5, retry_wait: float = 1.0,
                 misses_writer=None):
        super().__init__()
        self.contents, self.anonymous, self.endpoint_url, self.region = contents, anonymous, endpoint_url, region
        self.batch_size, self.retries, self.retry_wait = batch_size, retries, retry_wait
        self.misses_writer = misses_writer

    def _fetch(self, fs, paths: list[str]) -> dict[str, bytes | BaseException]:
        """path -> bytes, or the final error; transient errors are retried with exponential backoff."""
        done: dict[str, bytes | BaseException] = {}
        pending = paths
        for attempt in range(self.retries + 1):
            got = fs.cat(pending, on_error="return")
            by_blob = {k.rsplit("/", 1)[-1]: v for k, v in got.items()}
            retry = []
            for path in pending:
                value = by_blob.get(path.rsplit("/", 1)[-1], FileNotFoundError(path))
                if isinstance(value, BaseException) and _failure(value) == "transient":
                    retry.append(path)
                done[path] = value
            if not retry:
                return done
            if attempt == self.retries:
                err = done[retry[0]]
                raise RuntimeError(f"{len(retry)} blob(s) still failing after {self.retries} retries "
                                   f"(e.g. {retry[0]}: {type(err).__name__}: {err}); rerun to retry this task") from err
            self.stat_update("fetch_retries", value=len(retry))
            time.sleep(self.retry_wait * 2**attempt)
            pending = retry
        return done

    def run(self, data, rank: int = 0, world_size: int = 1):
        fs, root = contents_filesystem(self.contents, anonymous=self.anonymous, endpoint_url=self.endpoint_url,
                                       region=self.region)
        fetched = missed = 0
        writer = self.misses_writer if self.misses_writer is not None else contextlib.nullcontext()
        with writer as misses:
            for batch in batched(data, self.batch_size):
                with self.track_time("batch"):
                    ids = {id(d): str(d.metadata.get("blob_id") or d.text).strip().lower() for d in batch}
                    paths = sorted({f"{root}/{b}" for b in ids.values() if BLOB_ID.fullmatch(b)})
                    got = {p.rsplit("/", 1)[-1]: v for p, v in self._fetch(fs, paths).items()} if paths else {}
                for doc in batch:
                    blob = ids[id(doc)]
                    reason, value = ("bad_blob_id", None) if blob not in got else (None, got[blob])
                    if isinstance(value, BaseException):
                        reason = _failure(value)
                    elif reason is None:
                        try:
                            text, note = decode_blob(value, doc.metadata.get("src_encoding"))
                        except (OSError, EOFError, zlib.error):
                            reason = "corrupt_blob"
                    if reason:
                        missed += 1
                        self.stat_update(reason)
                        if misses is not None:
                            doc.metadata["fetch_error"] = reason
                            misses.write(doc, rank)
                        if fetched == 0 and missed >= MISS_PROBE:
                            raise RuntimeError(f"the first {missed} blobs all missed ({reason}) at {self.contents}: "
                                               "check the bucket, --s3-endpoint and credentials")
                        continue
                    if note:
                        self.stat_update(note)
                    fetched += 1
                    self.stat_update("fetched")
                    doc.text = text
                    self.update_doc_stats(doc)
                    yield doc


def add_contents_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("Stack-Edu contents (Software Heritage's S3 bucket)")
    g.add_argument("--contents", default=SWH_CONTENTS,
                   help="where the gzip files live: s3://bucket/prefix or a local folder laid out like it [%(default)s]")
    g.add_argument("--s3-endpoint", default=None, help="an S3-compatible endpoint URL instead of AWS")
    g.add_argument("--s3-region", default=SWH_REGION, help="[%(default)s]")
    g.add_argument("--s3-credentials", action="store_true",
                   help="sign requests with the default AWS credentials instead of reading anonymously")
    g.add_argument("--fetch-batch", type=int, default=64, help="blobs requested at once per task [%(default)s]")
    g.add_argument("--fetch-retries", type=int, default=5, help="retries of a transient error [%(default)s]")


def default_contents_args() -> argparse.Namespace:
    """The fetch flags at their defaults (the public bucket, anonymous)."""
    parser = argparse.ArgumentParser()
    add_contents_args(parser)
    return parser.parse_args([])


def check_contents_args(args: argparse.Namespace) -> None:
    import fsspec

    from smolrecipe.errors import RecipeError

    protocol = fsspec.utils.get_protocol(args.contents)
    if protocol not in ("s3", "s3a", "file", "local"):
        raise RecipeError(f"--contents {args.contents}: {protocol}:// is neither S3 nor a local folder",
                          field="--contents", fix=f"e.g. --contents {SWH_CONTENTS}, or a local mirror folder")
    if protocol in ("file", "local"):
        from pathlib import Path

        if not Path(args.contents.removeprefix("file://")).is_dir():
            raise RecipeError("the contents folder does not exist", file=args.contents, field="--contents",
                              fix="pass a folder laid out like the bucket (<folder>/<blob_id>), or the s3:// bucket")
    if args.fetch_batch < 1 or args.fetch_retries < 0:
        raise RecipeError("--fetch-batch must be at least 1 and --fetch-retries at least 0",
                          field="--fetch-batch/--fetch-retries", fix="e.g. --fetch-batch 64 --fetch-retries 5")


def fetch_step(args: argparse.Namespace, misses_folder: str | None = None) -> FetchBlobContents:
    """The step from the command-line flags; documents that miss go to `misses_folder` (jsonl.gz) when given."""
    from datatrove.pipeline.writers import JsonlWriter

    check_contents_args(args)
    return FetchBlobContents(args.contents, anonymous=not args.s3_credentials, endpoint_url=args.s3_endpoint,
                             region=args.s3_region, batch_size=args.fetch_batch, retries=args.fetch_retries,
                             misses_writer=JsonlWriter(misses_folder, compression="gzip") if misses_folder else None)


def fetch_summary(stats: dict) -> list[str]:
    """One line of what the fetch did, from a run's merged stats (executor.read_stats); [] if it did not run."""
    s = next((v for k, v in stats.items() if "Software Heritage" in k), None)
    if s is None:
        return []
    parts = [f"{int(s.get('fetched', 0))} files fetched"]
    parts += [f"{int(s[k])} {k.replace('_', ' ')}" for k in (*MISS_REASONS, *NOTES, "fetch_retries") if s.get(k)]
    return ["Stack-Edu contents: " + ", ".join(parts)]
