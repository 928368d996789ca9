"""Readers: local jsonl folders that tolerate bad input, and the recipe's Hub data sets by name.

Bad input never crashes a run and is never silent: `SafeJsonlReader` counts every skipped line in the
pipeline stats under `skipped_<reason>` (malformed_json, not_utf8, not_an_object, missing_text, empty_text,
bad_messages) and `bad_input_summary` turns those counts into one line per reason for the end-of-run summary.

Two Hub sources are not text as published: SmolTalk rows hold a `messages` list (rendered to text with the
chat template, smolrecipe.data.chat, before any filter sees it), and Stack-Edu rows hold a Software Heritage
blob id (the document's text is that id until smolrecipe.data.stack_edu.FetchBlobContents puts in the file).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

import orjson
from datatrove.pipeline.readers.base import BaseDiskReader

from smolrecipe.data.chat import message_problem, render_chat

SKIP_REASONS = ("malformed_json", "not_utf8", "not_an_object", "missing_text", "empty_text", "bad_messages")


class SafeJsonlReader(BaseDiskReader):
    """jsonl(.gz) reader that decodes each line strictly and skips (and counts) what it cannot use.

    datatrove's JsonlReader opens files in text mode: one non-UTF-8 byte ends the whole file with a warning,
    and documents without text are dropped uncounted. Here each line is judged on its own.
    """

    name = "🐿 Safe jsonl"

    def __init__(self, data_folder, *, text_key: str = "text", id_key: str = "id", glob_pattern: str = "*.jsonl*",
                 limit: int = -1, default_metadata: dict | None = None):
        super().__init__(data_folder, limit=limit, text_key=text_key, id_key=id_key, glob_pattern=glob_pattern,
                         default_metadata=default_metadata, recursive=True)

    def _skip_line(self, reason: str) -> None:
        self.stat_update(f"skipped_{reason}")

    def get_document_from_dict(self, data: dict, source_file: str, id_in_file: int):
        # datatrove resolves the file's full path again for every document (6% of a tokenization task);
        # it is the same for the whole file, so it is resolved once in read_file.
        document = super(BaseDiskReader, self).get_document_from_dict(data, source_file, id_in_file)
        if document and self.add_file_path:
            document.metadata.setdefault("file_path", self._resolved_path)
        return document

    @staticmethod
    def _parse(text: str):
        """orjson (3x faster); the stdlib parser only for what orjson refuses, so that a lone surrogate
        escape is still classed as not_utf8 and NaN / huge numbers parse as before."""
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return json.loads(text)

    def read_file(self, filepath: str):
        self._resolved_path = self.data_folder.resolve_paths(filepath)
        with self.data_folder.open(filepath, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if filepath.endswith(".gz") else raw
            for li, line in enumerate(stream):
                if not line.strip():
                    continue
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    self._skip_line("not_utf8")
                    continue
                try:
                    data = self._parse(text)
                except json.JSONDecodeError:
                    self._skip_line("malformed_json")
                    continue
                if not isinstance(data, dict):
                    self._skip_line("not_an_object")
                    continue
                if self.text_key not in data:
                    self._skip_line("missing_text")
                    continue
                value = data[self.text_key]
                if isinstance(value, list):  # a conversation (TRL's conversational format): rendered as chat text
                    if message_problem(value):
                        self._skip_line("bad_messages")
                        continue
                    value = data[self.text_key] = render_chat(value)
                if not isinstance(value, str) or not value.strip():
                    self._skip_line("empty_text")
                    continue
                try:
                    value.encode("utf-8")  # JSON escapes can smuggle lone surrogates past the byte check
                except UnicodeEncodeError:
                    self._skip_line("not_utf8")
                    continue
                doc = self.get_document_from_dict(data, filepath, li)
                if doc is not None:
                    yield doc


def bad_input_summary(stats: dict) -> list[str]:
    """'skipped N lines: reason' lines from merged pipeline stats (see executor.read_stats)."""
    lines = []
    for step, values in stats.items():
        for reason in SKIP_REASONS:
            n = values.get(f"skipped_{reason}", 0)
            if n:
                lines.append(f"skipped {int(n)} input line(s): {reason.replace('_', ' ')}")
    return lines


@dataclass(frozen=True)
class HubSource:
    """A Hub data set of the recipe: where it lives and which field holds the text."""

    repo: str
    path: str  # folder or glob inside the repo (parquet files)
    text_key: str = "text"
    note: str = ""
    kind: str = "text"  # "text", "chat" (a messages list, rendered) or "blob-ids" (Stack-Edu: contents fetched later)

    @property
    def url(self) -> str:
        return f"hf://datasets/{self.repo}/{self.path}"

    def location(self, hub_mirror: str | None = None) -> str:
        """hf:// on the cluster, or the same <repo>/<path> layout inside a local mirror folder."""
        return f"{hub_mirror.rstrip('/')}/{self.repo}/{self.path}" if hub_mirror else self.url


# The SmolLM2 pretraining sources (REFERENCE.md sections 2-3; paper arXiv 2502.02737). Paths are the
# published parquet layouts; per-language Stack-Edu and StarCoderData subsets are added by `code_source`.
HUB_SOURCES: dict[str, HubSource] = {
    "fineweb-edu": HubSource("HuggingFaceFW/fineweb-edu", "data", note="FineWeb-Edu, edu score >= 3"),
    "dclm": HubSource("mlfoundations/dclm-baseline-1.0-parquet", "filtered", note="DCLM baseline"),
    "open-web-math": HubSource("open-web-math/open-web-math", "data", note="OpenWebMath"),
    "finemath-3plus": HubSource("HuggingFaceTB/finemath", "finemath-3plus", note="FineMath 3+"),
    "finemath-4plus": HubSource("HuggingFaceTB/finemath", "finemath-4plus", note="FineMath 4+"),
    "infiwebmath-3plus": HubSource("HuggingFaceTB/finemath", "infiwebmath-3plus", note="InfiWebMath 3+"),
    "infiwebmath-4plus": HubSource("HuggingFaceTB/finemath", "infiwebmath-4plus", note="InfiWebMath 4+"),
    "infiwebmath": HubSource("OpenGVLab/InfiMM-WebMath-40B", "data", note="InfiMM-WebMath (English subset used)"),
    "cosmopedia-v2": HubSource("HuggingFaceTB/smollm-corpus", "cosmopedia-v2", note="Cosmopedia v2"),
    "fineweb-edu-dedup": HubSource("HuggingFaceTB/smollm-corpus", "fineweb-edu-dedup", note="SmolLM corpus FineWeb-Edu"),
    "aug-gsm8k": HubSource("HuggingFaceTB/smollm-corpus", "aug-gsm8k", note="augmented GSM8K-style problems"),
    "smoltalk": HubSource("HuggingFaceTB/smoltalk", "data/all", text_key="messages", note="SFT mixture", kind="chat"),
    "books": HubSource("manu/project_gutenberg", "data", note="long documents for context extension"),
}

# Stack-Edu's configurations on the Hub, one per language (the data set card's config names).
STACK_EDU_LANGUAGES = ("Python", "Cpp", "Markdown", "C", "JavaScript", "Java", "SQL", "PHP", "CSharp",
                       "TypeScript", "Shell", "Swift", "Go", "Rust", "Ruby")
LANGUAGE_ALIASES = {"c-sharp": "CSharp", "c#": "CSharp", "c++": "Cpp"}
# bigcode/starcoderdata's folder for each of those languages (it spells C# "c-sharp")
STARCODER_FOLDERS = {**{lang: lang.lower() for lang in STACK_EDU_LANGUAGES}, "CSharp": "c-sharp"}


def stack_edu_language(name: str) -> str:
    """A Stack-Edu configuration name from what a user typed (case-insensitive; C-Sharp, C# and C++ accepted)."""
    from smolrecipe.errors import RecipeError

    by_lower = {lang.lower(): lang for lang in STACK_EDU_LANGUAGES} | LANGUAGE_ALIASES
    if str(name).lower() not in by_lower:
        raise RecipeError(f"unknown Stack-Edu language {name!r}", field="--language",
                          fix=f"one of {', '.join(STACK_EDU_LANGUAGES)}")
    return by_lower[str(name).lower()]


def code_source(dataset: str, language: str) -> HubSource:
    """StarCoderData / Stack-Edu for one language. Stack-Edu's parquet files hold blob ids and scores; the
    files themselves are fetched from Software Heritage's bucket (smolrecipe.data.stack_edu)."""
    lang = stack_edu_language(language)
    if dataset == "starcoderdata":
        return HubSource("bigcode/starcoderdata", STARCODER_FOLDERS[lang], text_key="content", note=f"StarCoderData {lang}")
    if dataset == "stack-edu":
        return HubSource("HuggingFaceTB/stack-edu", lang, text_key="blob_id", note=f"Stack-Edu {lang}", kind="blob-ids")
    raise ValueError(dataset)


def stack_edu_row(self, data: dict, path: str, id_in_file) -> dict:
    """Reader adapter for Stack-Edu rows: id and text are the blob id, every other column goes to metadata."""
    blob = data.pop("blob_id", None) or ""
    return {"text": blob, "id": blob or f"{path}/{id_in_file}", "metadata": {**data, "blob_id": blob}}


def chat_row(self, data: dict, path: str, id_in_file) -> dict:
    """Reader adapter for chat rows: the messages rendered with the chat template (counted and skipped if malformed)."""
    messages = data.pop(self.text_key, None)
    text = ""
    if message_problem(messages):
        self.stat_update("skipped_bad_messages")
    else:
        text = render_chat(messages)
    return {"text": text, "id": data.pop(self.id_key, f"{path}/{id_in_file}"), "metadata": data}


def hub_reader(name: str, *, limit: int = -1, language: str | None = None, hub_mirror: str | None = None):
    """A datatrove ParquetReader on a named source: hf:// on the cluster (streamed), or a local mirror of it."""
    from datatrove.pipeline.readers import ParquetReader

    from smolrecipe.errors import RecipeError

    if name in ("starcoderdata", "stack-edu"):
        src = code_source(name, language or "Python")
    elif name in HUB_SOURCES:
        src = HUB_SOURCES[name]
    else:
        raise RecipeError(f"unknown source {name!r}", field="--source",
                          fix=f"one of {', '.join([*HUB_SOURCES, 'starcoderdata', 'stack-edu'])} or a local folder")
    adapter = {"chat": chat_row, "blob-ids": stack_edu_row}.get(src.kind)
    return ParquetReader(src.location(hub_mirror), text_key=src.text_key, limit=limit, glob_pattern="**/*.parquet",
                         adapter=adapter, default_metadata={"source": name})


def reader_for(source: str, *, limit: int = -1, text_key: str = "text", language: str | None = None,
               hub_mirror: str | None = None, blob_ids: bool = False):
    """A local folder (jsonl) or a Hub source name. Stack-Edu's documents are blob ids until a fetch step puts the
    files in: only a caller that adds that step (blob_ids=True) may read it."""
    import os

    from smolrecipe.errors import RecipeError

    if os.sep in source or source.startswith("."):
        if not os.path.isdir(source):
            raise RecipeError(f"input folder {source} does not exist", field="--input",
                              fix="build it first (see data/README.md) or pass a Hub source name")
        return SafeJsonlReader(source, text_key=text_key, limit=limit)
    if source == "stack-edu" and not blob_ids:
        raise RecipeError("stack-edu holds Software Heritage blob ids, not code: this step would read the ids",
                          field="--input", fix="fetch the files first: data/stack_edu.py --input stack-edu, or "
                                               "data/tokenize_folder.py --smollm2 stack-edu; then pass that output folder")
    return hub_reader(source, limit=limit, language=language, hub_mirror=hub_mirror)
