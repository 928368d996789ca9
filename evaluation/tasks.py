"""SmolLM2's evaluation as a lighteval 0.13 custom-task file, plus the tiny recipe's suite on local data.

    lighteval accelerate "model_name=<folder>,override_chat_template=False" evaluation/smollm2_base.txt \
        --custom-tasks evaluation/tasks.py                      # what `make eval SUITE=base` runs, in-process
    make eval MODEL=<folder> SUITE=base|instruct|tiny            # adds a fresh cache, the table, the header

The prompts follow the published SmolLM2 task definitions (huggingface/smollm, text/evaluation/smollm2, which
runs only on lighteval commit ea46419a, before 0.7): the same query and choice strings, the same few-shot
counts, stop sequences and data set revisions. What changed in lighteval and how this file copes:
- `loglikelihood_acc_norm_nospace` is gone: it is `LogLikelihoodAccMetric(LogProbCharNorm(ignore_first_space=True))`,
  the sum of the choice's log-probabilities divided by its length in characters, not counting a leading space.
- `quasi_exact_match_gsm8k` / `_triviaqa` are gone: they are rebuilt below from `ExactMatches` and the same
  normalisers (`gsm8k_normalizer`: the number after the first "#### "; `harness_triviaqa_normalizer`).
- 0.13 joins a few-shot example as `query + " " + answer.strip()` and puts a task instruction in its own
  paragraph: the prompt functions set no `instruction` and end each query with "Answer:" so the text sent to
  the model is the published one; BBH's evaluated query keeps its published trailing space (few-shot copies
  drop it so 0.13's joining space is the only one).
- lighteval's built-in hellaswag and piqa are letter-form (MCF) tasks, and its templates (`lighteval.tasks.templates`,
  CF/MCF formulations) capitalise and re-punctuate questions and answers: neither gives SmolLM2's cloze prompts, so
  the prompt functions here are written out. IFEval is lighteval's built-in `ifeval`.
Task names carry a `smollm2_` / `tiny_` prefix: lighteval refuses custom names that clash with built-ins.
Importing this file reads nothing from the network; data sets load when lighteval runs a task.
"""
from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np
from lighteval.metrics.dynamic_metrics import LogLikelihoodAccMetric
from lighteval.metrics.metrics_corpus import CorpusLevelPerplexityMetric
from lighteval.metrics.metrics_sample import ExactMatches
from lighteval.metrics.normalizations import (
    LogProbCharNorm,
    gsm8k_normalizer,
    harness_triviaqa_normalizer,
    math_normalizer,
)
from lighteval.metrics.sample_preparator import TargetPerplexityPreparator
from lighteval.metrics.utils.metric_utils import SampleLevelMetric
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc, SamplingMethod

TINY_DATA = Path(__file__).resolve().parent / "data" / "tiny"
LETTERS = string.ascii_uppercase

# ------------------------------------------------------------------------------------------------ metrics
# SmolLM2's acc_norm_nospace: per-character normalised log-likelihood, the leading space not counted.
acc_norm_nospace = LogLikelihoodAccMetric(normalization=LogProbCharNorm(ignore_first_space=True))


def _qem(name: str, normalize_pred, normalize_gold=None) -> SampleLevelMetric:
    return SampleLevelMetric(
        metric_name=name,
        sample_level_fn=ExactMatches(strip_strings=True, normalize_pred=normalize_pred, normalize_gold=normalize_gold),
        category=SamplingMethod.GENERATIVE,
        corpus_level_fn=np.mean,
        higher_is_better=True,
    )


qem_gsm8k = _qem("qem", gsm8k_normalizer, gsm8k_normalizer)
qem_triviaqa = _qem("qem", harness_triviaqa_normalizer)
qem_math = _qem("qem", math_normalizer, math_normalizer)
exact_match = _qem("em", None)


def first_line(text: str) -> str:
    """A tiny chat answer is one line: whatever follows is not the answer."""
    return text.strip().split("\n", 1)[0].strip()


em_first_line = _qem("em", first_line)

# bits per byte of the gold continuation given the query (lower is better): a pretraining progress signal
bits_per_byte = SampleLevelMetric(
    metric_name="bits_per_byte",
    sample_level_fn=TargetPerplexityPreparator(units_type="bytes"),
    category=SamplingMethod.LOGPROBS,
    corpus_level_fn=CorpusLevelPerplexityMetric("bits_per_byte"),
    higher_is_better=False,
)

# ------------------------------------------------------------------------------------------------ prompts
def _clean_hellaswag(text: str) -> str:
    # WikiHow artefacts, as the harness and SmolLM2 strip them
    text = text.replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def hellaswag_cloze(line: dict, task_name: str | None = None) -> Doc:
    context = f"{line['ctx_a']} {line['ctx_b'].capitalize()} "
    return Doc(task_name=task_name, query=_clean_hellaswag(f"{line['activity_label']}: {context}"),
               choices=[" " + _clean_hellaswag(e) for e in line["endings"]],
               gold_index=int(line["label"]) if line["label"] != "" else -1)


def arc_cloze(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name, query=f"Question: {line['question']}\nAnswer:",
               choices=[f" {c}" for c in line["choices"]["text"]],
               gold_index=line["choices"]["label"].index(line["answerKey"]))


def piqa_cloze(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name, query=f"Question: {line['goal']}\nAnswer:",
               choices=[f" {line['sol1']}", f" {line['sol2']}"], gold_index=int(line["label"]))


def commonsense_qa_cloze(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name, query=line["question"], choices=[f" {c}" for c in line["choices"]["text"]],
               gold_index=line["choices"]["label"].index(line["answerKey"].strip()))


def winogrande_cloze(line: dict, task_name: str | None = None) -> Doc:
    # the sentence up to the blank is the context; each option followed by the rest of the sentence is a choice
    before, after = line["sentence"].split("_", 1)
    after = after.strip()
    return Doc(task_name=task_name, query=before,
               choices=[f"{line['option1']} {after}", f"{line['option2']} {after}"],
               gold_index=int(line["answer"]) - 1 if line["answer"] != "" else -1)


def openbookqa_cloze(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name, query=line["question_stem"], choices=[f" {c}" for c in line["choices"]["text"]],
               gold_index="ABCDE".index(line["answerKey"].strip()))


def mmlu_cloze(line: dict, task_name: str | None = None) -> Doc:
    topic = line["subject"].replace("_", " ")
    return Doc(task_name=task_name,
               query=f"The following are questions about {topic}.\nQuestion: {line['question']}\nAnswer:",
               choices=[f" {c}" for c in line["choices"]], gold_index=int(line["answer"]))


def mmlu_pro_letters(line: dict, task_name: str | None = None) -> Doc:
    topic = line["category"].replace("_", " ")
    options = "".join(f"{LETTERS[i]}. {o}\n" for i, o in enumerate(line["options"]))
    query = (f"The following are multiple choice questions (with answers) about {topic}.\n\n"
             f"{line['question']}\n{options}Answer:")
    return Doc(task_name=task_name, query=query, choices=list(LETTERS[:len(line["options"])]),
               gold_index=int(line["answer_index"]))


def trivia_qa_generative(line: dict, task_name: str | None = None) -> Doc:
    # every alias, lower-cased without punctuation; an alias that extends a shorter one is redundant for matching
    aliases = sorted(line["answer"]["aliases"])
    kept = aliases[:1]
    for a in aliases[1:]:
        if not a.startswith(kept[-1]):
            kept.append(a)
    golds = [a.lower().translate(str.maketrans("", "", string.punctuation)) for a in kept]
    return Doc(task_name=task_name, query=f"Question: {line['question']}\nAnswer:", choices=[golds], gold_index=0)


def gsm8k_generative(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name, query=f"Question: {line['question']}\nAnswer:", choices=[f" {line['answer']}"],
               gold_index=0)


def bbh_generative(line: dict, task_name: str | None = None) -> Doc:
    # published: "Question: <input>\nAnswer: " then the target; a few-shot copy drops the trailing space because
    # lighteval 0.13 inserts one between query and answer. `specific` names the item so the evaluated document
    # can be kept out of its own few-shot examples (smolrecipe.evaluation.run does that).
    query = f"Question: {line['input']}\nAnswer:" + ("" if line.get("__few_shots") else " ")
    return Doc(task_name=task_name, query=query, choices=[line["target"]], gold_index=0,
               specific={"item": line["input"]})


def math_generative(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name,
               query=f"{line['problem']}\nPlease reason step by step, and put your final answer within \\boxed{{}}.\n\n",
               choices=[f"{line['solution']}\n\n"], gold_index=0)


# The tiny recipe's chat format (ChatML, smolrecipe/tokenizer.py), written into the query: the tiny suite runs with
# lighteval's chat template off so that its base-model task reads plain text; tests check this string against
# the tiny tokenizer's own template.
TINY_CHAT = "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"


def _tiny_choices(item: dict) -> tuple[list[str], int]:
    """The answer among its wrong alternatives, at a position fixed by the item (not always first)."""
    choices = list(item["wrong"])
    gold = sum(map(ord, item["id"])) % (len(choices) + 1)
    choices.insert(gold, item["answer"])
    return choices, gold


def tiny_chat_mc(line: dict, task_name: str | None = None) -> Doc:
    choices, gold = _tiny_choices(line)
    return Doc(task_name=task_name, query=TINY_CHAT.format(prompt=line["prompt"]), choices=choices, gold_index=gold)


def tiny_chat_generative(line: dict, task_name: str | None = None) -> Doc:
    return Doc(task_name=task_name, query=TINY_CHAT.format(prompt=line["prompt"]), choices=[line["answer"]],
               gold_index=0)


def tiny_math_solution(line: dict, task_name: str | None = None) -> Doc:
    # a held-out worked problem: the solution's bits per byte given the problem statement
    cut = line["text"].index("Solution.") + len("Solution.")
    return Doc(task_name=task_name, query=line["text"][:cut], choices=[line["text"][cut:]], gold_index=0)


# ------------------------------------------------------------------------------------------------ tasks
# Data set revisions are SmolLM2's (huggingface/smollm text/evaluation/smollm2/tasks.py), except MMLU-Pro's,
# which lighteval 0.13's built-in pins to the same commit.
def _cloze(name, prompt, repo, subset, revision, split, **kw) -> LightevalTaskConfig:
    return LightevalTaskConfig(name=name, prompt_function=prompt, hf_repo=repo, hf_subset=subset, hf_revision=revision,
                               evaluation_splits=[split], metrics=[acc_norm_nospace], **kw)


ARC_REV = "210d026faf9955653af8916fad021475a3f00453"
TASKS_TABLE = [
    _cloze("smollm2_hellaswag", hellaswag_cloze, "Rowan/hellaswag", "default",
           "6002345709e0801764318f06bf06ce1e7d1a1fe3", "validation"),
    _cloze("smollm2_arc:easy", arc_cloze, "allenai/ai2_arc", "ARC-Easy", ARC_REV, "test"),
    _cloze("smollm2_arc:challenge", arc_cloze, "allenai/ai2_arc", "ARC-Challenge", ARC_REV, "test"),
    _cloze("smollm2_piqa", piqa_cloze, "ybisk/piqa", "plain_text", "2e8ac2dffd59bac8c3c6714948f4c551a0848bb0",
           "validation"),
    _cloze("smollm2_commonsense_qa", commonsense_qa_cloze, "tau/commonsense_qa", "default",
           "94630fe30dad47192a8546eb75f094926d47e155", "validation"),
    _cloze("smollm2_winogrande", winogrande_cloze, "allenai/winogrande", "winogrande_xl",
           "85ac5b5a3b7a930e22d590176e39460400d19e41", "validation"),
    _cloze("smollm2_openbookqa", openbookqa_cloze, "allenai/openbookqa", "main",
           "388097ea7776314e93a529163e0fea805b8a6454", "validation"),
    _cloze("smollm2_mmlu_cloze", mmlu_cloze, "cais/mmlu", "all", "c30699e8356da336a370243923dbaf21066bb9fe", "test",
           hf_avail_splits=["test"]),
    _cloze("smollm2_mmlu_pro", mmlu_pro_letters, "TIGER-Lab/MMLU-Pro", "default",
           "3373e0b32277875b8db2aa555a333b78a08477ea", "test", few_shots_split="validation"),
    LightevalTaskConfig(
        name="smollm2_trivia_qa", prompt_function=trivia_qa_generative, hf_repo="mandarjoshi/trivia_qa",
        hf_subset="rc.nocontext", hf_revision="0f7faf33a3908546c6fd5b73a660e0f8ff173c2f",
        hf_avail_splits=["train", "validation"], evaluation_splits=["validation"], few_shots_split="train",
        few_shots_select="random_sampling_from_train", generation_size=20, stop_sequence=["Question:", "Question"],
        metrics=[qem_triviaqa]),
    LightevalTaskConfig(
        name="smollm2_gsm8k", prompt_function=gsm8k_generative, hf_repo="openai/gsm8k", hf_subset="main",
        hf_revision="e53f048856ff4f594e959d75785d2c2d37b678ee", hf_avail_splits=["train", "test"],
        evaluation_splits=["test"], few_shots_split="train", few_shots_select="random_sampling_from_train",
        generation_size=256, stop_sequence=["Question:", "Question"], metrics=[qem_gsm8k]),
    LightevalTaskConfig(
        name="smollm2_math", prompt_function=math_generative, hf_repo="HuggingFaceTB/math_tasks", hf_subset="math",
        hf_revision="3d34f1076f279000b9315583dcdacfd288898283", hf_avail_splits=["train", "test", "demo"],
        evaluation_splits=["test"], few_shots_split="demo", few_shots_select="sequential", generation_size=1024,
        stop_sequence=["\n\n"], metrics=[qem_math]),
]

BBH_SUBSETS = (
    "boolean_expressions causal_judgement date_understanding disambiguation_qa dyck_languages formal_fallacies "
    "geometric_shapes hyperbaton logical_deduction_five_objects logical_deduction_seven_objects "
    "logical_deduction_three_objects movie_recommendation multistep_arithmetic_two navigate object_counting "
    "penguins_in_a_table reasoning_about_colored_objects ruin_names salient_translation_error_detection snarks "
    "sports_understanding temporal_sequences tracking_shuffled_objects_five_objects "
    "tracking_shuffled_objects_seven_objects tracking_shuffled_objects_three_objects web_of_lies word_sorting"
).split()
TASKS_TABLE += [
    LightevalTaskConfig(
        name=f"smollm2_bbh:{subset}", prompt_function=bbh_generative, hf_repo="lighteval/big_bench_hard",
        hf_subset=subset, hf_revision="80610173426f05e6f1448f047e2db4840a7dd899", hf_avail_splits=["train"],
        evaluation_splits=["train"], few_shots_split="train",  # the only split; the evaluated item is never its own example
        stop_sequence=["Question:", "Question"], metrics=[exact_match])
    for subset in BBH_SUBSETS
]

# The tiny recipe's suite (evaluation/data/tiny/): held-out chat items of smolrecipe.data.tiny_tasks as 4-way
# log-likelihood choices (the answer among the wrong answers DPO learns to reject) and as exact-match generation
# (what SFT teaches), and held-out worked math problems of smolrecipe.data.mathgen scored in bits per byte (what
# pretraining improves, stage by stage). Plain text, no lighteval chat template: the chat items carry TINY_CHAT.
def _tiny(name: str, prompt, folder: str, metric, **kw) -> LightevalTaskConfig:
    return LightevalTaskConfig(name=name, prompt_function=prompt, hf_repo=str(TINY_DATA / folder), hf_subset="default",
                               hf_avail_splits=["test"], evaluation_splits=["test"], metrics=[metric], **kw)


TASKS_TABLE += [
    _tiny("tiny_chat_mc", tiny_chat_mc, "chat", acc_norm_nospace),
    _tiny("tiny_chat_gen", tiny_chat_generative, "chat", em_first_line, generation_size=10,
          stop_sequence=["<|im_end|>", "\n"]),
    _tiny("tiny_math_bpb", tiny_math_solution, "math", bits_per_byte),
]
