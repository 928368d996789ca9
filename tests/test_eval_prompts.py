"""Evaluation prompts and scoring, without a model: GSM8K on its real test split, golden prompts for every suite
task written from the published SmolLM2 task definitions (huggingface/smollm text/evaluation/smollm2, on
lighteval ea46419a), the task lists as lighteval resolves them, the tiny suite's committed data."""
from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GSM8K = REPO / "evaluation" / "data" / "gsm8k" / "test.jsonl"


def load_tasks_module():
    spec = importlib.util.spec_from_file_location("smolrecipe_eval_tasks", REPO / "evaluation" / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


T = load_tasks_module()


def plain_prompt(doc, fewshot=()):
    """The text lighteval 0.13 sends a model for `doc` without a chat template."""
    from lighteval.tasks.prompt_manager import PromptManager

    doc.fewshot_samples = list(fewshot)
    return PromptManager(use_chat_template=False).prepare_prompt(doc)


def score(metric, doc, prediction: str) -> float:
    from lighteval.models.model_output import ModelResponse

    return metric.sample_level_fn.compute(doc=doc, model_response=ModelResponse(text=[prediction]))


# ------------------------------------------------------------------------------------------------ GSM8K
@pytest.fixture(scope="module")
def gsm8k_lines():
    return [json.loads(line) for line in GSM8K.read_text().splitlines()]


def test_gsm8k_reference_solutions_score_100_and_shuffled_ones_near_0(gsm8k_lines):
    assert len(gsm8k_lines) == 1319
    docs = [T.gsm8k_generative(line) for line in gsm8k_lines]
    # a model that writes the reference solution (as the 5-shot examples teach it to), then runs on into the next
    # question until the stop sequence cuts it
    right = [score(T.qem_gsm8k, d, " " + line["answer"] + "\n\n") for d, line in zip(docs, gsm8k_lines)]
    assert sum(right) / len(right) == 1.0
    shuffled = [line["answer"] for line in gsm8k_lines]
    random.Random(0).shuffle(shuffled)
    wrong = [score(T.qem_gsm8k, d, " " + a) for d, a in zip(docs, shuffled)]
    assert sum(wrong) / len(wrong) < 0.03  # only problems that happen to share an answer


def test_gsm8k_extraction_reads_the_number_after_the_marks(gsm8k_lines):
    doc = T.gsm8k_generative(gsm8k_lines[0])  # Janet's ducks: 18
    assert gsm8k_lines[0]["answer"].endswith("#### 18")
    assert score(T.qem_gsm8k, doc, " She makes 9 * 2 = $18.\n#### 18") == 1
    assert score(T.qem_gsm8k, doc, " She makes 9 * 2 = $18 every day.") == 0  # no "####": invalid, as published
    assert score(T.qem_gsm8k, doc, " #### 17") == 0
    assert score(T.qem_gsm8k, doc, " #### 18\n\nQuestion: #### 5") == 1  # the first answer counts
    big = {"question": "q", "answer": "a\n#### 1000"}
    assert score(T.qem_gsm8k, T.gsm8k_generative(big), "#### 1,000") == 1  # thousands separators dropped


def test_gsm8k_five_shot_prompt_has_the_published_separators_and_stop_sequence(gsm8k_lines):
    shots = [T.gsm8k_generative(line) for line in gsm8k_lines[1:6]]
    target = gsm8k_lines[0]
    prompt = plain_prompt(T.gsm8k_generative(target), shots)
    # pre-0.7 lighteval: "\n\n".join(query + " " + answer for each shot, then the query)
    expected = "\n\n".join([f"Question: {s['question']}\nAnswer: {s['answer']}" for s in gsm8k_lines[1:6]]
                           + [f"Question: {target['question']}\nAnswer:"])
    assert prompt == expected
    cfg = {c.name: c for c in T.TASKS_TABLE}["smollm2_gsm8k"]
    assert list(cfg.stop_sequence) == ["Question:", "Question"] and cfg.generation_size == 256
    assert (cfg.few_shots_split, cfg.few_shots_select) == ("train", "random_sampling_from_train")
    assert "smollm2_gsm8k|5" in (REPO / "evaluation" / "smollm2_base.txt").read_text().split()


# ------------------------------------------------------------------------------------------------ golden prompts
# (prompt function, a document in the data set's schema, expected query, expected choices, expected gold)
GOLDEN = [
    (T.hellaswag_cloze,
     {"activity_label": "Removing ice from car", "ctx_a": "Then, the man writes over the snow covering the window of a car.",
      "ctx_b": "then", "endings": [", the man adds wax to the windshield.", "[header] and leaves.", "a b"], "label": "2"},
     "Removing ice from car: Then, the man writes over the snow covering the window of a car. Then ",
     [" , the man adds wax to the windshield.", "  and leaves.", " a b"], 2),  # published: space, then cleaning
    (T.hellaswag_cloze,
     {"activity_label": "Baking", "ctx_a": "How to bake bread [title] Mix the flour.", "ctx_b": "", "endings": ["x"],
      "label": "0"},
     "Baking: How to bake bread. Mix the flour. ", [" x"], 0),
    (T.arc_cloze,
     {"question": "Which gas do plants absorb?", "choices": {"text": ["oxygen", "carbon dioxide"], "label": ["A", "B"]},
      "answerKey": "B"},
     "Question: Which gas do plants absorb?\nAnswer:", [" oxygen", " carbon dioxide"], 1),
    (T.arc_cloze,
     {"question": "2+2?", "choices": {"text": ["3", "4", "5"], "label": ["1", "2", "3"]}, "answerKey": "2"},
     "Question: 2+2?\nAnswer:", [" 3", " 4", " 5"], 1),
    (T.piqa_cloze, {"goal": "Dry wet shoes", "sol1": "put them in the oven", "sol2": "stuff them with paper", "label": 1},
     "Question: Dry wet shoes\nAnswer:", [" put them in the oven", " stuff them with paper"], 1),
    (T.commonsense_qa_cloze,
     {"question": "Where do you keep milk?", "choices": {"label": ["A", "B"], "text": ["fridge", "shelf"]},
      "answerKey": "A "},
     "Where do you keep milk?", [" fridge", " shelf"], 0),
    (T.winogrande_cloze,
     {"sentence": "The trophy doesn't fit in the case because the _ is too big.", "option1": "trophy", "option2": "case",
      "answer": "1"},
     "The trophy doesn't fit in the case because the ", ["trophy is too big.", "case is too big."], 0),
    (T.openbookqa_cloze,
     {"question_stem": "The sun is responsible for", "choices": {"text": ["puppies", "plants sprouting"],
                                                                  "label": ["A", "B"]}, "answerKey": "B"},
     "The sun is responsible for", [" puppies", " plants sprouting"], 1),
    (T.mmlu_cloze,
     {"subject": "high_school_biology", "question": "What carries oxygen?", "choices": ["platelets", "red cells"],
      "answer": 1},
     "The following are questions about high school biology.\nQuestion: What carries oxygen?\nAnswer:",
     [" platelets", " red cells"], 1),
    (T.mmlu_pro_letters,
     {"category": "computer_science", "question": "What is 2**3?", "options": ["6", "8", "9"], "answer_index": 1},
     "The following are multiple choice questions (with answers) about computer science.\n\nWhat is 2**3?\n"
     "A. 6\nB. 8\nC. 9\nAnswer:", ["A", "B", "C"], 1),
    (T.gsm8k_generative, {"question": "What is 1+1?", "answer": "1+1=2\n#### 2"},
     "Question: What is 1+1?\nAnswer:", [" 1+1=2\n#### 2"], 0),
    (T.math_generative, {"problem": "Solve $x+1=2$.", "solution": "So $x=\\boxed{1}$."},
     "Solve $x+1=2$.\nPlease reason step by step, and put your final answer within \\boxed{}.\n\n",
     ["So $x=\\boxed{1}$.\n\n"], 0),
]


@pytest.mark.parametrize("fn,line,query,choices,gold", GOLDEN, ids=[f"{g[0].__name__}-{i}" for i, g in enumerate(GOLDEN)])
def test_golden_prompts(fn, line, query, choices, gold):
    doc = fn(dict(line), "t")
    assert doc.query == query
    assert list(doc.choices) == choices
    assert doc.gold_index == gold
    assert doc.instruction is None  # 0.13 would put an instruction in a paragraph of its own
    assert plain_prompt(doc) == query  # and 0-shot, the model reads the query exactly


def test_trivia_qa_golds_are_the_normalised_aliases_and_the_prompt_is_published():
    line = {"question": "Who wrote Hamlet?", "answer": {"aliases": ["W. Shakespeare", "Shakespeare", "Shakespeare's"]}}
    doc = T.trivia_qa_generative(line)
    assert doc.query == "Question: Who wrote Hamlet?\nAnswer:"
    assert sorted(doc.get_golds()) == ["shakespeare", "w shakespeare"]  # "Shakespeare's" extends "Shakespeare"
    assert score(T.qem_triviaqa, doc, " Shakespeare.\n\n") == 1
    assert score(T.qem_triviaqa, doc, " Marlowe") == 0


def test_bbh_three_shot_prompt_is_the_published_one():
    rows = [{"input": f"in{i}", "target": f"t{i}"} for i in range(4)]
    shots = [T.bbh_generative({**r, "__few_shots": True}) for r in rows[:3]]
    prompt = plain_prompt(T.bbh_generative(rows[3]), shots)
    assert prompt == ("Question: in0\nAnswer: t0\n\nQuestion: in1\nAnswer: t1\n\nQuestion: in2\nAnswer: t2\n\n"
                      "Question: in3\nAnswer: ")
    assert score(T.exact_match, T.bbh_generative(rows[3]), " t3 \n") == 1


def test_an_item_is_never_its_own_few_shot_example():
    from types import SimpleNamespace

    from smolrecipe.evaluation.run import exclude_self_from_fewshots

    rows = [{"input": f"in{i}", "target": f"t{i}"} for i in range(5)]
    pool = [T.bbh_generative({**r, "__few_shots": True}) for r in rows]
    docs = [T.bbh_generative(r) for r in rows]
    for d in docs:  # what lighteval 0.13's balanced sampler hands every document: the same first examples
        d.fewshot_samples = pool[:3]
    task = SimpleNamespace(fewshot_docs=lambda: pool)
    assert exclude_self_from_fewshots({"bbh": task}, {"bbh": docs}) == 3
    for d in docs:
        items = [ex.specific["item"] for ex in d.fewshot_samples]
        assert d.specific["item"] not in items and len(items) == 3
    assert [ex.specific["item"] for ex in docs[0].fewshot_samples] == ["in1", "in2", "in3"]
    assert [ex.specific["item"] for ex in docs[4].fewshot_samples] == ["in0", "in1", "in2"]  # untouched


def test_math_scoring_compares_the_boxed_answers():
    doc = T.math_generative({"problem": "p", "solution": "so $\\boxed{\\frac{1}{2}}$"})
    assert score(T.qem_math, doc, "We get $\\boxed{\\frac12}$") == 1
    assert score(T.qem_math, doc, "We get $\\boxed{2}$") == 0


def test_mmlu_pro_and_cloze_metrics_are_smollm2s_acc_norm_nospace():
    from lighteval.metrics.normalizations import LogProbCharNorm

    by_name = {c.name: c for c in T.TASKS_TABLE}
    for name in ("smollm2_hellaswag", "smollm2_arc:easy", "smollm2_piqa", "smollm2_mmlu_pro", "smollm2_winogrande"):
        (metric,) = by_name[name].metrics
        assert metric.metric_name == "acc_norm"
        assert metric.sample_level_fn.logprob_normalization == LogProbCharNorm(ignore_first_space=True)


def test_tiny_chat_prompt_is_the_tiny_tokenizers_chat_template(tmp_path):
    from transformers import PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers

    from smolrecipe.tokenizer import CHAT_TEMPLATE

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE()))
    tok.chat_template = CHAT_TEMPLATE
    tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel()
    item = {"id": "heldout-00003", "prompt": "What is 2 + 3?", "answer": "5", "wrong": ["6", "4", "15"]}
    doc = T.tiny_chat_mc(item)
    assert doc.query == tok.apply_chat_template([{"role": "user", "content": item["prompt"]}], tokenize=False,
                                                add_generation_prompt=True)
    assert doc.choices[doc.gold_index] == "5" and sorted(doc.choices) == ["15", "4", "5", "6"]
    golds = {T.tiny_chat_mc({**item, "id": f"heldout-{i:05d}"}).gold_index for i in range(12)}
    assert golds == {0, 1, 2, 3}  # the answer is not always in the same place


# ------------------------------------------------------------------------------------------------ task lists
def test_every_suite_task_resolves_in_lighteval_with_its_fewshot_count():
    from smolrecipe.evaluation.run import expand_tasks
    from smolrecipe.evaluation.suites import SUITES

    for suite in SUITES.values():
        configs = expand_tasks(suite.tasks())
        names = {c.full_name for c in configs}
        for spec in suite.tasks():
            task, shots = spec.split("|")
            assert any(n.split("|")[0] in (task,) or n.startswith(task + ":") for n in names), spec
            assert all(c.num_fewshots == int(shots) for c in configs if c.full_name.split("|")[0].split(":")[0]
                       == task.split(":")[0] and c.full_name.startswith(task)), spec
        for row in suite.rows:  # every table row is fed by a task of the list
            assert any(n.split("|")[0] == t or n.startswith(t + ":") for t in row.tasks for n in names), row.label
    bbh = [c for c in expand_tasks(["smollm2_bbh|3"])]
    assert len(bbh) == 27 and {c.num_fewshots for c in bbh} == {3}
    assert SUITES["base"].chat_template is False and SUITES["instruct"].chat_template is True


def test_the_committed_tiny_data_equals_its_generators():
    from smolrecipe.evaluation.tiny_data import tiny_data_dir, tiny_files

    for rel, text in tiny_files().items():
        assert (tiny_data_dir() / rel).read_text() == text, f"regenerate with python -m smolrecipe.evaluation.tiny_data"
    chat = [json.loads(x) for x in (tiny_data_dir() / "chat" / "test.jsonl").read_text().splitlines()]
    from smolrecipe.data.tiny_tasks import generate

    train = {it["prompt"] for it in generate("train", 4000)}
    assert not train & {it["prompt"] for it in chat}  # held-out prompts never met in post-training data


def test_importing_the_task_file_and_the_eval_commands_opens_no_connection():
    import subprocess
    import sys

    code = (
        "import socket\n"
        "def refuse(*a, **k): raise SystemExit('network call at import')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('t', 'evaluation/tasks.py')\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "import smolrecipe.commands.eval, smolrecipe.commands.eval_sweep, smolrecipe.evaluation.run\n"
        "print(len(m.TASKS_TABLE))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src"), "HOME": str(REPO)}  # no offline flags
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.split()[-1]) == 12 + 27 + 3  # SmolLM2 tasks, BBH subsets, tiny tasks
