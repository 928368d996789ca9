"""The SmolLM2 recipes' tokenized folders, by name: Hub reader -> (fetch) -> (decontamination) -> tokenizer.

    pipelines("fineweb-edu") -> [("fineweb-edu", [ParquetReader(hf://...), NGramsDecontFilter, DocumentTokenizer])]
    pipelines("stack-edu", languages=["Java"]) -> [("stack-edu-java", [ParquetReader, FetchBlobContents, ...])]

Every name the nanotron configs use under outputs/data/smollm2/ (pretraining/configs/smollm2-*) has an entry.
Sources published already filtered (FineWeb-Edu, FineMath, Stack-Edu, Cosmopedia) are tokenized as they are;
Stack-Edu's files are first fetched from Software Heritage by blob id (smolrecipe.data.stack_edu), the
blobs that miss written to <root>/stack-edu-misses/<language>. Decontamination runs when an index is given
(data/decontaminate.py builds it). Code sources read one language per pipeline and write files prefixed
by the language into the same folder. `cluster_plan` is the whole list of commands a cluster runs for
a recipe's folders (`make data RECIPE=smollm2-1.7B` prints it; SLURM=1 submits it). The long-context
folders keep documents of at least `LONG_MIN_CHARS` characters (about 8k tokens at ~4 characters per
token: the SmolLM2 context extension trained on 8k sequences).
"""
from __future__ import annotations

import re

from datatrove.pipeline.filters.base_filter import BaseFilter

from smolrecipe.data.readers import HUB_SOURCES, STACK_EDU_LANGUAGES, hub_reader, stack_edu_language
from smolrecipe.data.tokenize import tokenizer_step
from smolrecipe.errors import RecipeError

COSMO2 = "HuggingFaceTB/cosmo2-tokenizer"
LONG_MIN_CHARS = 32_000
# StarCoderData languages read for the stage 1-2 code share (derived: the paper does not publish the
# per-language weights; these are the languages Stack-Edu kept, so stages 3-4 switch like for like).
STARCODER_LANGUAGES = STACK_EDU_LANGUAGES

# folder name -> (Hub source name, long-document filter)
TOKENIZED = {
    "fineweb-edu": ("fineweb-edu", False),
    "dclm": ("dclm", False),
    "starcoderdata": ("starcoderdata", False),
    "stack-edu": ("stack-edu", False),
    "open-web-math": ("open-web-math", False),
    "infiwebmath": ("infiwebmath", False),
    "finemath-4plus": ("finemath-4plus", False),
    "infiwebmath-3plus": ("infiwebmath-3plus", False),
    "aug-gsm8k": ("aug-gsm8k", False),
    "cosmopedia-v2": ("cosmopedia-v2", False),
}
TOKENIZED_LONG = {"dclm-long": ("dclm", True), "fineweb-edu-long": ("fineweb-edu", True), "books": ("books", True)}


class MinCharsFilter(BaseFilter):
    """Keeps documents with at least `min_chars` characters (long-context data)."""

    name = "📏 Min length"

    def __init__(self, min_chars: int):
        super().__init__()
        self.min_chars = min_chars

    def filter(self, doc) -> bool | tuple[bool, str]:
        return True if len(doc.text) >= self.min_chars else (False, "too_short")


def names() -> list[str]:
    return [*TOKENIZED, *TOKENIZED_LONG]


def output_folder(name: str, root: str = "outputs/data/smollm2") -> str:
    return f"{root}/{'tokenized-long' if name in TOKENIZED_LONG else 'tokenized'}/{name}"


def pipelines(name: str, *, tokenizer: str = COSMO2, root: str = "outputs/data/smollm2", decont_index: str | None = None,
              limit: int = -1, languages: list[str] | None = None, hub_mirror: str | None = None,
              contents=None) -> list[tuple[str, list]]:
    """[(job name, steps)] for one folder; several jobs (one per language) for the code sources.

    `contents`: the Stack-Edu fetch flags (stack_edu.add_contents_args; default: the public bucket, anonymous).
    `hub_mirror`: read the Hub data sets from a local folder with the same <repo>/<path> layout."""
    if name not in TOKENIZED and name not in TOKENIZED_LONG:
        raise RecipeError(f"unknown SmolLM2 data folder {name!r}", field="--source", fix=f"one of {', '.join(names())}")
    source, long = TOKENIZED.get(name) or TOKENIZED_LONG[name]
    out = output_folder(name, root)
    if source in ("starcoderdata", "stack-edu"):
        langs = [stack_edu_language(lang) for lang in (languages or STARCODER_LANGUAGES)]
    else:
        langs = [None]
    jobs = []
    for lang in langs:
        steps = [hub_reader(source, limit=limit, language=lang, hub_mirror=hub_mirror)]
        if source == "stack-edu":
            from smolrecipe.data import stack_edu

            steps.append(stack_edu.fetch_step(contents or stack_edu.default_contents_args(),
                                              misses_folder=f"{root}/stack-edu-misses/{lang}"))
        if long:
            steps.append(MinCharsFilter(LONG_MIN_CHARS))
        if decont_index:
            from smolrecipe.data.decont import NGramsDecontFilter, default_config

            steps.append(NGramsDecontFilter(decont_index, config=default_config()))
        tok = tokenizer_step(out, tokenizer)
        if lang:
            tok.save_filename = lang.lower()  # several languages share the folder without name clashes
        steps.append(tok)
        jobs.append((f"{name}-{lang.lower()}" if lang else name, steps))
    return jobs


# ---- the cluster plan: every command that builds a recipe's folders ------------------------------------------

# The evaluation suites the tokenized folders are decontaminated against (13-gram index, lighteval task specs).
DECONT_TASKS = "gsm8k|5,arc:challenge|0,arc:easy|0,mmlu|0,hellaswag|0"
WHAT = {
    "fineweb-edu": "published filtered (edu classifier >= 3)",
    "dclm": "published filtered (DCLM baseline)",
    "starcoderdata": "StarCoderData, 15 languages, as published",
    "stack-edu": "blob ids from the Hub, files fetched from Software Heritage's bucket (per-language classifier >= 3, "
                 "2 for Java, applied upstream)",
    "open-web-math": "as published",
    "infiwebmath": "as published",
    "finemath-4plus": "published filtered (math classifier >= 4, MinHash, 13-gram decontaminated)",
    "infiwebmath-3plus": "published filtered (math classifier >= 3)",
    "aug-gsm8k": "as published (SmolLM corpus)",
    "cosmopedia-v2": "as published (synthetic textbooks)",
    "dclm-long": f"DCLM documents of at least {LONG_MIN_CHARS:,} characters",
    "fineweb-edu-long": f"FineWeb-Edu documents of at least {LONG_MIN_CHARS:,} characters",
    "books": f"Project Gutenberg books of at least {LONG_MIN_CHARS:,} characters",
}


def cluster_plan(folders, *, partition: str = "${PARTITION}", tasks: str = "${TASKS}", logs: str = "${LOGS}",
                 venv: str | None = None, root: str = "outputs/data/smollm2") -> list[tuple[str, list[str]]]:
    """[(what, argv)] for the folders a recipe reads: the decontamination index (runs where it is launched), then
    one tokenization job per folder (Slurm). `${VAR}` values are printed as shell variables."""
    index = f"{root}/decont-index"
    plan = [("13-gram decontamination index of the evaluation suites (runs here: lighteval reads them from the Hub)",
             ["data/decontaminate.py", "--lighteval-tasks", DECONT_TASKS, "--index", index, "--index-only"])]
    for name in names():
        if output_folder(name, root) not in folders:
            continue
        source = (TOKENIZED.get(name) or TOKENIZED_LONG[name])[0]
        argv = ["data/tokenize_folder.py", "--smollm2", name, "--decont-index", index]
        if name == "stack-edu":
            from smolrecipe.data.stack_edu import SWH_CONTENTS

            argv += ["--contents", SWH_CONTENTS]
        argv += ["--slurm", "--partition", partition, "--tasks", str(tasks), "--logging-dir", logs]
        if venv:
            argv += ["--venv", venv]
        where = {"stack-edu": "hf://datasets/HuggingFaceTB/stack-edu/<Language>",
                 "starcoderdata": "hf://datasets/bigcode/starcoderdata/<language>"}.get(source)
        where = where or HUB_SOURCES[source].url
        plan.append((f"{name} <- {where}: {WHAT[name]}", argv))
    return plan


def shell_line(argv: list[str], python: str = "python") -> str:
    """The command as a user types it: ${VAR} placeholders in double quotes, everything else shell-quoted."""
    import shlex

    def q(a: str) -> str:
        return f'"{a}"' if re.fullmatch(r"\$\{[A-Z_]+\}", a) else shlex.quote(a)

    return " ".join([python, *map(q, argv)])
