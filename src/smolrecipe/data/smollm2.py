"""The SmolLM2 recipes' tokenized folders, by name: Hub reader -> (decontamination) -> tokenizer.

    pipelines("fineweb-edu") -> [("fineweb-edu", [ParquetReader(hf://...), NGramsDecontFilter, DocumentTokenizer])]

Every name the nanotron configs use under outputs/data/smollm2/ (pretraining/configs/smollm2-*) has an entry.
Sources published already filtered (FineWeb-Edu, FineMath, Stack-Edu, Cosmopedia) are tokenized as they are;
decontamination runs when an index is given (data/decontaminate.py builds it). Code sources read one
language per pipeline and write files prefixed by the language into the same folder. The long-context
folders keep documents of at least `LONG_MIN_CHARS` characters (about 8k tokens at ~4 characters per
token: the SmolLM2 context extension trained on 8k sequences).
"""
from __future__ import annotations

from datatrove.pipeline.filters.base_filter import BaseFilter

from smolrecipe.data.readers import STACK_EDU_LANGUAGES, hub_reader
from smolrecipe.data.tokenize import tokenizer_step
from smolrecipe.errors import RecipeError

COSMO2 = "HuggingFaceTB/cosmo2-tokenizer"
LONG_MIN_CHARS = 32_000
# StarCoderData languages read for the stage 1-2 code share (derived: the paper does not publish the
# per-language weights; these are the languages Stack-Edu kept, so stages 3-4 switch like for like).
STARCODER_LANGUAGES = tuple(lang.lower() for lang in STACK_EDU_LANGUAGES)

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
              limit: int = -1, languages: list[str] | None = None) -> list[tuple[str, list]]:
    """[(job name, steps)] for one folder; several jobs (one per language) for the code sources."""
    if name not in TOKENIZED and name not in TOKENIZED_LONG:
        raise RecipeError(f"unknown SmolLM2 data folder {name!r}", field="--source", fix=f"one of {', '.join(names())}")
    source, long = TOKENIZED.get(name) or TOKENIZED_LONG[name]
    out = output_folder(name, root)
    if source == "starcoderdata":
        langs = languages or list(STARCODER_LANGUAGES)
    elif source == "stack-edu":
        langs = languages or list(STACK_EDU_LANGUAGES)
    else:
        langs = [None]
    jobs = []
    for lang in langs:
        steps = [hub_reader(source, limit=limit, language=lang)]
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
