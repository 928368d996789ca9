"""Evaluation end to end on a randomly initialised tiny Llama and a tokenizer trained on local text: lighteval's
numbers against a plain transformers loop, the chat template as the suite says, unloadable tasks reported by
name, reruns skipped, and a sweep over checkpoints with its plot."""
from __future__ import annotations

import importlib.metadata
import json
import math
import os
from pathlib import Path

import pytest

from smolrecipe.evaluation import loop
from smolrecipe.evaluation.suites import SUITES, Suite

REPO = Path(__file__).resolve().parents[1]


def random_model(folder: Path, tokenizer, seed: int) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
                      bos_token_id=0, eos_token_id=0)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # larger weights than the default init, so choices get clearly different scores
        for p in model.parameters():
            p.mul_(8.0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoTokenizer

    from smolrecipe.tokenizer import train_tokenizer

    root = tmp_path_factory.mktemp("eval")
    tok = AutoTokenizer.from_pretrained(train_tokenizer(root / "tok", vocab_size=600, max_bytes=400_000))
    return {"root": root, "tok": tok, "model": random_model(root / "model", tok, seed=0)}


def one_task_suite(tmp: Path, specs: list[str], chat_template: bool, rows=()) -> Suite:
    lst = tmp / f"list-{len(specs)}-{chat_template}.txt"
    lst.write_text("\n".join(specs) + "\n")
    return Suite("test", str(lst), chat_template=chat_template, reference=None, rows=tuple(rows))


def tiny_docs(folder: str, fn_name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location("smolrecipe_eval_tasks_t", REPO / "evaluation" / "tasks.py")
    T = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(T)
    lines = [json.loads(x) for x in (REPO / "evaluation" / "data" / "tiny" / folder / "test.jsonl").read_text().splitlines()]
    return [getattr(T, fn_name)(line) for line in lines]


def details(out: Path, task: str):
    import pandas as pd

    (f,) = out.glob(f"lighteval/details/model/*/details_{task}|0_*.parquet")
    return pd.read_parquet(f)


def test_tiny_suite_scores_from_lighteval_equal_a_plain_transformers_loop(tiny, tmp_path):
    from transformers import AutoModelForCausalLM

    from smolrecipe.evaluation.run import evaluate

    out = tmp_path / "tiny"
    summary = evaluate(tiny["model"], SUITES["tiny"], out, max_samples=90)
    model = AutoModelForCausalLM.from_pretrained(tiny["model"]).eval()

    # the items lighteval scored (a seeded subset), rebuilt from the committed data by the task's prompt function
    by_query = {d.query: d for d in tiny_docs("chat", "tiny_chat_mc")}
    rows = details(out, "tiny_chat_mc")
    mc = [by_query[r["doc"]["query"]] for _, r in rows.iterrows()]
    assert len(mc) == 90 and all(list(d.choices) == list(r["doc"]["choices"]) for d, (_, r) in zip(mc, rows.iterrows()))
    ctx, choices, golds = [d.query for d in mc], [list(d.choices) for d in mc], [d.gold_index for d in mc]
    lps = loop.choice_logprobs(model, tiny["tok"], ctx, choices, batch_size=37)
    ours = loop.char_norm_accuracy(lps, choices, golds)
    theirs = summary["results"]["tiny_chat_mc|0"]["acc_norm"]
    assert abs(ours - theirs) < 1e-6, (ours, theirs)
    raw = sum(max(range(4), key=lp.__getitem__) == g for lp, g in zip(lps, golds)) / len(golds)
    assert raw != ours  # the normalisation matters on these items, so a mismatch in it would show
    for lp, (_, r) in zip(lps, rows.iterrows()):  # and per choice, the same log-probabilities
        assert all(abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(r["model_response"]["logprobs"], lp))

    by_query = {d.query: d for d in tiny_docs("math", "tiny_math_solution")}
    math_docs = [by_query[r["doc"]["query"]] for _, r in details(out, "tiny_math_bpb").iterrows()]
    sol = loop.choice_logprobs(model, tiny["tok"], [d.query for d in math_docs], [list(d.choices) for d in math_docs])
    bpb = -sum(x[0] for x in sol) / sum(len(d.choices[0].encode()) for d in math_docs) / math.log(2)
    assert abs(bpb - summary["results"]["tiny_math_bpb|0"]["bits_per_byte"]) < 1e-5 * bpb

    table = (out / "results.md").read_text()
    assert f"{100 * theirs:.1f}" in table and "tiny_chat_gen" in table and "chat template: not applied" in table
    assert summary["results"]["tiny_chat_gen|0"]["em"] == 0.0  # a random model answers nothing right
    assert summary["model"]["weights"].startswith("sha256:") and summary["failed_tasks"] == {}


@pytest.mark.parametrize("chat_template", [False, True])
def test_the_chat_template_is_applied_exactly_when_the_suite_says(tiny, tmp_path, chat_template):
    from smolrecipe.evaluation.run import evaluate

    assert tiny["tok"].chat_template  # the tokenizer has one: lighteval 0.13 alone would always apply it
    suite = one_task_suite(tmp_path, ["tiny_math_bpb|0"], chat_template)
    summary = evaluate(tiny["model"], suite, tmp_path / "out", max_samples=3)
    prompt = summary["example_prompts"]["tiny_math_bpb|0"]
    if chat_template:
        assert prompt.startswith("<|im_start|>user\nProblem. ") and prompt.endswith("<|im_start|>assistant\n")
    else:
        assert prompt.startswith("Problem. ") and prompt.endswith("\n\nSolution.") and "<|im_start|>" not in prompt


def test_a_task_whose_data_does_not_load_is_reported_by_name_and_the_others_run(tiny, tmp_path):
    from smolrecipe.evaluation.run import evaluate

    suite = one_task_suite(tmp_path, ["smollm2_arc:easy|0", "tiny_math_bpb|0"], False, SUITES["tiny"].rows)
    logs = []
    summary = evaluate(tiny["model"], suite, tmp_path / "out", max_samples=3, log=logs.append)
    assert list(summary["failed_tasks"]) == ["smollm2_arc:easy|0"]  # offline: the Hub data set cannot load
    assert "tiny_math_bpb|0" in summary["results"]
    assert any("smollm2_arc:easy|0" in line and "does not load" in line for line in logs)
    table = (tmp_path / "out" / "results.md").read_text()
    assert "Not run (data did not load):" in table and "- smollm2_arc:easy|0:" in table
    assert "**partial**" in table  # max_samples is marked


def test_a_rerun_is_skipped_and_new_weights_start_fresh(tiny, tmp_path):
    from smolrecipe.evaluation.run import evaluate

    model = random_model(tmp_path / "m", tiny["tok"], seed=1)
    model = Path(os.path.relpath(model))  # as typed on a command line: relative, tokenizer inside the folder
    suite = one_task_suite(tmp_path, ["tiny_math_bpb|0"], False)
    first = evaluate(model, suite, tmp_path / "out", max_samples=3)
    logs = []
    again = evaluate(model, suite, tmp_path / "out", max_samples=3, log=logs.append)
    assert again == first and "already evaluated" in logs[0]
    random_model(model, tiny["tok"], seed=2)
    logs.clear()
    fresh = evaluate(model, suite, tmp_path / "out", max_samples=3, log=logs.append)
    assert "starting fresh" in logs[0] and fresh["key"] != first["key"]
    assert fresh["results"]["tiny_math_bpb|0"] != first["results"]["tiny_math_bpb|0"]


def test_sweep_plots_every_checkpoint_against_tokens_and_skips_done_ones(tiny, tmp_path):
    from smolrecipe.evaluation.sweep import sweep

    run = tmp_path / "run"
    stages = [{"name": "stage1", "start_training_step": 1, "sequence_length": 128, "consumed_samples": 40},
              {"name": "stage2", "start_training_step": 11, "sequence_length": 128, "consumed_samples": 8}]
    for step, samples, st in ((5, 20, stages[:1]), (12, 48, stages)):
        random_model(run / str(step) / "model", tiny["tok"], seed=step)
        meta = {"step": step, "consumed_tokens_total": samples * 128, "data_stages": st, "run": "t"}
        (run / str(step) / "metadata.json").write_text(json.dumps(meta))
    suite = one_task_suite(tmp_path, ["tiny_math_bpb|0", "tiny_chat_mc|0"], False, SUITES["tiny"].rows)
    out = tmp_path / "sweep"
    points = sweep(run, suite, out, max_samples=4, log=lambda m: None)
    assert [p["tokens"] for p in points] == [2560, 6144] and [p["stage"] for p in points] == ["stage1", "stage2"]
    saved = json.loads((out / "sweep.json").read_text())
    assert saved["stages"] == [["stage1", 0], ["stage2", 5120]]  # stage 2 starts after stage 1's 40 samples
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ln.split(" | ")[0] for ln in (out / "sweep.md").read_text().splitlines() if ln[2:3].isdigit()] == ["| 5", "| 12"]
    logs = []
    again = sweep(run, suite, out, max_samples=4, log=logs.append)
    assert sum("already evaluated" in m for m in logs) == 2 and again == points


def test_a_push_finds_what_make_eval_wrote_for_the_same_model_and_only_for_it(tiny, tmp_path, monkeypatch):
    # lighteval records the link `model` as the model's name; the card must still find the evaluation by its path
    from smolrecipe.evaluation.run import evaluate
    from smolrecipe.hub import evals

    monkeypatch.setenv("SMOLRECIPE_OUTPUTS", str(tmp_path / "outputs"))
    ckpt = random_model(tmp_path / "outputs" / "checkpoints" / "t" / "7" / "model", tiny["tok"], seed=3).parent
    other = random_model(tmp_path / "outputs" / "models" / "other", tiny["tok"], seed=4)
    suite = one_task_suite(tmp_path, ["tiny_math_bpb|0"], False)
    summary = evaluate(ckpt / "model", suite, tmp_path / "outputs" / "eval" / "t-7" / "test", max_samples=3)
    for asked in (ckpt, ckpt / "model"):  # a push names the checkpoint or its model folder
        (run,) = evals.find_results(asked)
        assert [(r.task, r.value) for r in run.rows if r.metric == "bits_per_byte"] == \
            [("tiny_math_bpb|0", summary["results"]["tiny_math_bpb|0"]["bits_per_byte"])]
        assert run.lighteval == importlib.metadata.version("lighteval")  # the card says which lighteval ran it
    assert evals.find_results(other) == []
