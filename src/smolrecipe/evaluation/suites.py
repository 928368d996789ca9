"""The evaluation suites: which task list, whether the chat template is applied, and how the table reads.

    suite = SUITES["base"]         # base | instruct | tiny
    suite.tasks()                  # ["smollm2_hellaswag|0", ...] from evaluation/smollm2_base.txt
    suite.rows                     # one table row per published benchmark: its lighteval tasks and metric

The task lists are plain files in lighteval's `task|fewshot` form beside the task file (evaluation/), so the
same lists run with the lighteval CLI. The chat template is a property of the suite, never left to lighteval's
default (0.13 applies a tokenizer's template whenever it has one): off for base and tiny, on for instruct.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from smolrecipe.paths import repo_root

CHAR_NORM = "per character, leading space ignored"


@dataclass(frozen=True)
class Row:
    """One benchmark as the table shows it: the mean of `metric` over `tasks` (task names without |fewshot)."""
    label: str
    tasks: tuple[str, ...]
    metric: str
    formulation: str
    normalisation: str = CHAR_NORM
    percent: bool = True      # accuracies are shown in percent; bits per byte as they are
    chance: float | None = None  # the score of a random guess, drawn in sweep plots


@dataclass(frozen=True)
class Suite:
    name: str
    task_list: str            # file name in evaluation/
    chat_template: bool
    reference: str | None     # key in evaluation/published.json
    rows: tuple[Row, ...]

    def task_file(self) -> Path:
        return evaluation_dir() / self.task_list

    def tasks(self) -> list[str]:
        lines = self.task_file().read_text().splitlines()
        return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def evaluation_dir() -> Path:
    return repo_root() / "evaluation"


def tasks_file() -> Path:
    return evaluation_dir() / "tasks.py"


def published() -> dict:
    return json.loads((evaluation_dir() / "published.json").read_text())


def _cf(label: str, *tasks: str) -> Row:
    return Row(label, tasks, "acc_norm", "cloze (CF)")


HELLASWAG, ARC, PIQA = _cf("HellaSwag", "smollm2_hellaswag"), _cf("ARC", "smollm2_arc:easy", "smollm2_arc:challenge"), \
    _cf("PIQA", "smollm2_piqa")
MMLU_PRO = Row("MMLU-Pro", ("smollm2_mmlu_pro",), "acc_norm", "letters (MCF)")
GSM8K = Row("GSM8K", ("smollm2_gsm8k",), "qem", "generative, number after '####'", "-")
BBH_ROW = Row("BBH", ("smollm2_bbh",), "em", "generative, exact match", "-")

SUITES: dict[str, Suite] = {
    "base": Suite("base", "smollm2_base.txt", chat_template=False, reference="SmolLM2-1.7B", rows=(
        HELLASWAG, ARC, PIQA, MMLU_PRO, _cf("CommonsenseQA", "smollm2_commonsense_qa"),
        Row("TriviaQA", ("smollm2_trivia_qa",), "qem", "generative, normalised alias match", "-"),
        _cf("Winogrande", "smollm2_winogrande"), _cf("OpenBookQA", "smollm2_openbookqa"), GSM8K,
        _cf("MMLU (cloze)", "smollm2_mmlu_cloze"))),
    "instruct": Suite("instruct", "smollm2_instruct.txt", chat_template=True, reference=None, rows=(
        Row("IFEval", ("ifeval",), "prompt_level_strict_acc", "generative, instruction checks", "-"),
        HELLASWAG, ARC, PIQA, MMLU_PRO, BBH_ROW, GSM8K)),
    # chat template off: the chat tasks carry the tiny recipe's ChatML themselves, the math task is plain text
    "tiny": Suite("tiny", "tiny.txt", chat_template=False, reference=None, rows=(
        Row("tiny chat tasks, 4-way choice", ("tiny_chat_mc",), "acc_norm", "answer among 3 wrong answers (CF)",
            chance=25.0),
        Row("tiny chat tasks, exact match", ("tiny_chat_gen",), "em", "generative, first line", "-"),
        Row("tiny math solutions, bits per byte (lower is better)", ("tiny_math_bpb",), "bits_per_byte",
            "log-likelihood of the worked solution", "per byte", percent=False))),
}
