"""Post-training recipes and their guards: TRL's own parser on every YAML, the published values, the loss mask
TRL builds from the shipped chat template (checked against ids computed by hand), and the checks before training."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from smolrecipe.errors import RecipeError

REPO = Path(__file__).resolve().parents[1]
PT = REPO / "post_training"
RECIPES = ("smollm2-1.7B", "smollm2-360M", "smollm2-135M", "tiny")
CONFIGS = ("sft", "dpo", "sft-lora")
GPUS = 8  # the accelerate configs' num_processes for the smollm2 recipes


def trl_parse(path: Path):
    """What `trl sft|dpo --config path` parses, with the classes its scripts use and unknown keys fatal."""
    from trl import DatasetMixtureConfig, DPOConfig, ModelConfig, ScriptArguments, SFTConfig, TrlParser

    cfg = DPOConfig if path.stem == "dpo" else SFTConfig
    parser = TrlParser((ScriptArguments, cfg, ModelConfig, DatasetMixtureConfig))
    # --use_cpu: bf16 recipes are checked against the hardware at parse time, and this machine has no GPU
    return parser.parse_args_and_config(["--config", str(path), "--use_cpu", "true"], fail_with_unknown_args=True)


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_parses_with_trls_parser_and_dpo_never_trains_on_test_prefs(recipe):
    for config in CONFIGS:
        path = PT / recipe / f"{config}.yaml"
        script, train, model, data = trl_parse(path)
        assert data.datasets, path
        for d in data.datasets:
            assert "test" not in d.split, (path, d.split)
        raw = yaml.safe_load(path.read_text())
        assert not {"max_seq_length", "torch_dtype", "max_prompt_length", "chat_template", "warmup_ratio"} & set(raw)
        if config == "dpo":  # DPO starts from this recipe's own SFT output, by path
            sft = yaml.safe_load((PT / recipe / "sft.yaml").read_text())
            assert model.model_name_or_path == sft["output_dir"] == f"outputs/post_training/{recipe}/sft"
        else:
            assert train.assistant_only_loss and train.chat_template_path == "post_training/chat_template.jinja"
        assert train.output_dir == f"outputs/post_training/{recipe}/{config}"
    lora = trl_parse(PT / recipe / "sft-lora.yaml")[2]
    assert lora.use_peft and lora.lora_r > 0


def test_the_published_smollm2_values():
    """REFERENCE section 4 / SmolLM2 paper: SFT 2 epochs, LR 3e-4 (1.7B) or 1e-3 (small), cosine, warmup ratio 0.1,
    global batch 128, length 8192; DPO beta 0.5, LR 1e-6, global batch 128, length 1024, on train_prefs."""
    for recipe, lr, data in (("smollm2-1.7B", 3e-4, ("HuggingFaceTB/smoltalk", "all")),
                             ("smollm2-360M", 1e-3, ("HuggingFaceTB/smol-smoltalk", None)),
                             ("smollm2-135M", 1e-3, ("HuggingFaceTB/smol-smoltalk", None))):
        _, sft, _, mix = trl_parse(PT / recipe / "sft.yaml")
        assert (sft.num_train_epochs, sft.learning_rate, sft.lr_scheduler_type.value) == (2, lr, "cosine")
        assert sft.get_warmup_steps(1000) == 100  # transformers reads warmup_steps 0.1 as a ratio
        assert sft.per_device_train_batch_size * sft.gradient_accumulation_steps * GPUS == 128
        assert sft.max_length == 8192 and (mix.datasets[0].path, mix.datasets[0].name) == data
        _, dpo, _, mix = trl_parse(PT / recipe / "dpo.yaml")
        assert (dpo.beta, dpo.learning_rate, dpo.max_length) == (0.5, 1e-6, 1024)
        assert dpo.per_device_train_batch_size * dpo.gradient_accumulation_steps * GPUS == 128
        assert [(d.path, d.split) for d in mix.datasets] == [("HuggingFaceH4/ultrafeedback_binarized", "train_prefs")]
    for name in ("ddp", "zero3", "fsdp"):
        acc = yaml.safe_load((PT / "accelerate" / f"{name}.yaml").read_text())
        assert acc["num_processes"] == GPUS and acc["mixed_precision"] == "bf16"
    assert yaml.safe_load((PT / "accelerate" / "cpu.yaml").read_text())["use_cpu"] is True


def test_an_unknown_key_is_fatal_for_trl_and_named_by_the_check(tmp_path):
    from smolrecipe.post_training.recipe import parse

    bad = tmp_path / "sft.yaml"
    bad.write_text((PT / "tiny" / "sft.yaml").read_text().replace("\nmax_length:", "\nmax_seq_length:"))
    with pytest.raises(ValueError, match="Unknown arguments from config file"):
        trl_parse(bad)
    with pytest.raises(RecipeError) as e:
        parse(bad, "sft")
    assert e.value.field == "max_seq_length" and "max_length" in e.value.fix and str(bad) in e.value.render()


def test_test_prefs_in_a_training_split_is_refused(tmp_path):
    from smolrecipe.post_training.recipe import check, parse

    bad = tmp_path / "dpo.yaml"
    bad.write_text((PT / "smollm2-135M" / "dpo.yaml").read_text().replace(
        "    split: train_prefs\n", "    split: train_prefs\n  - path: HuggingFaceH4/ultrafeedback_binarized\n"
        "    split: test_prefs\n"))
    with pytest.raises(RecipeError) as e:
        check(parse(bad, "dpo", ["--use_cpu", "true"]))
    assert e.value.field == "datasets[1].split" and "test_prefs" in e.value.problem


# ------------------------------------------------------------------------------------------------ loss mask
CONVERSATION = [{"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": "What is 2 + 3?"}, {"role": "assistant", "content": "5"},
                {"role": "user", "content": "And 7 + 5?"}, {"role": "assistant", "content": "12, since 7 + 5 = 12."}]


def by_hand(tok, messages) -> tuple[list[int], list[int]]:
    """ChatML ids and the trained positions, built piece by piece: the special tokens split the text, so the ids of
    the whole string are the ids of its pieces in order. Trained: each assistant content and its <|im_end|>."""
    start, end = tok.convert_tokens_to_ids("<|im_start|>"), tok.convert_tokens_to_ids("<|im_end|>")
    ids, trained = [], []

    def add(piece, train: bool):
        new = tok(piece, add_special_tokens=False)["input_ids"] if isinstance(piece, str) else [piece]
        ids.extend(new)
        trained.extend([int(train)] * len(new))

    for m in messages:
        add(start, False)
        add(m["role"] + "\n", False)
        assistant = m["role"] == "assistant"
        add(m["content"], assistant)
        add(end, assistant)
        add("\n", False)
    return ids, trained


def sft_trainer(tmp_path, rows, *, template: Path = PT / "chat_template.jinja"):
    import sys

    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    sys.path.insert(0, str(REPO / "tests"))
    from hubkit import model_folder

    folder, _ = model_folder(tmp_path / "model", hidden=16, layers=1, intermediate=32)
    args = SFTConfig(output_dir=str(tmp_path / "out"), assistant_only_loss=True, chat_template_path=str(template),
                     packing=False, use_cpu=True, bf16=False, report_to="none", activation_checkpointing=False)
    return SFTTrainer(model=str(folder), args=args, train_dataset=Dataset.from_list(rows))


def test_trl_trains_exactly_the_assistant_turns_and_their_end_of_turn(tmp_path):
    trainer = sft_trainer(tmp_path, [{"messages": CONVERSATION}])
    row = trainer.train_dataset[0]
    ids, trained = by_hand(trainer.processing_class, CONVERSATION)
    assert row["input_ids"] == ids
    assert [int(label != -100) for label in row["labels"]] == trained
    assert [label for label, t in zip(row["labels"], trained) if t] == [i for i, t in zip(ids, trained) if t]
    end = trainer.processing_class.convert_tokens_to_ids("<|im_end|>")
    trained_ends = [i for i, (tok, t) in enumerate(zip(ids, trained)) if tok == end and t]
    assert len(trained_ends) == 2 and sum(tok == end for tok in ids) == 5  # 2 of the 5 turn ends are the assistant's


def test_a_row_without_an_assistant_turn_is_an_error_not_an_empty_mask(tmp_path):
    from smolrecipe.post_training.data import read_local_jsonl

    only_user = {"messages": [{"role": "user", "content": "Hello?"}]}
    f = tmp_path / "train.jsonl"
    f.write_text(json.dumps({"messages": CONVERSATION}) + "\n" + json.dumps(only_user) + "\n")
    with pytest.raises(RecipeError) as e:
        read_local_jsonl(f, "sft", "datasets[0].data_files", PT / "tiny" / "sft.yaml")
    assert "line 2" in e.value.problem and "assistant" in e.value.problem and e.value.file == str(f)
    with pytest.raises(RuntimeError, match="no assistant"):  # TRL 1.16 raises too, after loading model and data
        sft_trainer(tmp_path, [only_user])


def test_a_template_without_generation_markers_is_refused_before_training(tmp_path):
    from smolrecipe.post_training.recipe import check, parse

    plain = tmp_path / "plain.jinja"
    plain.write_text((PT / "chat_template.jinja").read_text().replace("{%- generation %}", "")
                     .replace("{%- endgeneration %}", ""))
    cfg = tmp_path / "sft.yaml"
    cfg.write_text((PT / "tiny" / "sft.yaml").read_text().replace("post_training/chat_template.jinja", str(plain)))
    with pytest.raises(RecipeError) as e:
        check(parse(cfg, "sft"))
    assert e.value.file == str(plain) and e.value.field == "chat_template_path" and "generation" in e.value.problem


def test_the_shipped_template_renders_as_the_tiny_tokenizers_template():
    from transformers.utils.chat_template_utils import render_jinja_template

    from smolrecipe.tokenizer import CHAT_TEMPLATE

    for gen in (False, True):
        a = render_jinja_template(conversations=[CONVERSATION], chat_template=(PT / "chat_template.jinja").read_text(),
                                  add_generation_prompt=gen)[0]
        b = render_jinja_template(conversations=[CONVERSATION], chat_template=CHAT_TEMPLATE, add_generation_prompt=gen)[0]
        assert a == b
    assert a[0].endswith("<|im_start|>assistant\n12, since 7 + 5 = 12.<|im_end|>\n<|im_start|>assistant\n")


def test_packed_chats_do_not_see_each_other_the_way_trl_trains_on_cpu():
    """bfd packing flattens chats into one row (padding-free); on CPU (sdpa, no flash attention) transformers keeps
    them apart only from the position ids and only without a KV cache, which TRL's compute_loss switches off."""
    import sys

    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    sys.path.insert(0, str(REPO / "tests"))
    from hubkit import llama

    model = llama(hidden=32, layers=2).train()
    a, b = list(range(5, 12)), list(range(40, 45))
    batch = DataCollatorForLanguageModeling(pad_token_id=3, padding_free=True)([{"input_ids": a}, {"input_ids": b}])
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    assert batch["input_ids"].shape == (1, 12) and batch["position_ids"][0].tolist() == [*range(7), *range(5)]
    with torch.no_grad():
        alone = torch.cat([model(torch.tensor([a]), use_cache=False).logits, model(torch.tensor([b]), use_cache=False).logits], 1)
        packed = model(**inputs, use_cache=False).logits  # what SFTTrainer.compute_loss passes
        leaky = model(**inputs).logits                    # the model's default use_cache=True
    assert torch.allclose(packed, alone, atol=1e-5)
    assert not torch.allclose(leaky[:, 7:], alone[:, 7:], atol=1e-3)  # b attends to a: why the trainer's flag matters


def test_sft_then_dpo_from_the_command_line_publish_models_with_their_record(tmp_path):
    """make sft then make dpo as a user runs them (a random model in the base model's place, 2 steps each), with
    outputs/ moved off the repository (SMOLRECIPE_OUTPUTS, as on a cluster's scratch disk); a rerun is skipped; the
    DPO output answers through make chat."""
    import os
    import shutil
    import subprocess
    import sys

    import trl

    sys.path.insert(0, str(REPO / "tests"))
    from hubkit import model_folder

    root = tmp_path / "repo"
    for d in ("post_training", "pretraining/configs", "evaluation/data"):
        shutil.copytree(REPO / d, root / d)
    outputs = tmp_path / "scratch" / "outputs"
    model_folder(outputs / "checkpoints" / "tiny-long-context" / "400", hidden=16, layers=1, intermediate=32)
    env = {**os.environ, "SMOLRECIPE_ROOT": str(root), "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "SMOLRECIPE_OUTPUTS": str(outputs)}

    def run(*argv):
        r = subprocess.run([sys.executable, "-m", "smolrecipe", *argv], cwd=root, env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        return r.stdout

    out = run("sft", "--recipe", "tiny", "--max_steps", "2")
    assert "starting fresh" in out and "accelerate launch --config_file post_training/accelerate/cpu.yaml" in out
    sft = outputs / "post_training" / "tiny" / "sft"
    for f in ("model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja", "smolrecipe_post_training.json"):
        assert (sft / f).is_file(), f
    assert not (sft.parent / "sft-run").exists()  # TRL's work folder goes once the model is published
    rec = json.loads((sft / "smolrecipe_post_training.json").read_text())
    assert rec["step"] == "sft" and rec["recipe"] == "tiny" and rec["config"] == "post_training/tiny/sft.yaml"
    assert rec["parent_model"]["path"] == "outputs/checkpoints/tiny-long-context/400"
    assert rec["versions"]["trl"] == trl.__version__ and rec["data"]["rows"] == rec["data"]["kept"] == 4000
    assert json.loads((sft / "tokenizer_config.json").read_text())["eos_token"] == "<|im_end|>"  # generation stops there
    assert "already complete" in run("sft", "--recipe", "tiny", "--max_steps", "2")

    out = run("dpo", "--recipe", "tiny", "--max_steps", "2")
    dpo = json.loads((sft.parent / "dpo" / "smolrecipe_post_training.json").read_text())
    assert dpo["parent_model"]["path"] == "outputs/post_training/tiny/sft" and dpo["parent_model"]["record"]["step"] == "sft"
    assert "not an SFT output" not in out and "rewards/accuracies" in (sft.parent / "dpo" / "train.log").read_text()
    out = run("chat", "--model", "outputs/post_training/tiny/dpo", "--prompt", "What is 7 + 5?", "--max-new-tokens", "3")
    assert out.startswith("user: What is 7 + 5?\nassistant: ")


def test_decontamination_removes_planted_benchmark_items_from_chat_contents(tmp_path):
    """A GSM8K test problem quoted inside a longer user turn (13-gram overlap) and a tiny held-out prompt verbatim
    (exact match: shorter than 13 words) are removed; train chats of the generator are all kept."""
    from smolrecipe.data.tiny_tasks import chat, generate
    from smolrecipe.post_training.data import decontaminate

    gsm = json.loads((REPO / "evaluation" / "data" / "gsm8k" / "test.jsonl").read_text().splitlines()[3])
    held = json.loads((REPO / "evaluation" / "data" / "tiny" / "chat" / "test.jsonl").read_text().splitlines()[0])
    rows = [chat(it) for it in generate("train", 300)]
    rows.append({"messages": [{"role": "user", "content": "Please help with my homework. " + gsm["question"]},
                              {"role": "assistant", "content": gsm["answer"]}]})
    rows.append({"messages": [{"role": "user", "content": held["prompt"]}, {"role": "assistant", "content": held["answer"]}]})
    kept, report = decontaminate(rows, tmp_path / "index")
    assert len(kept) == 300 and kept == rows[:300]
    assert report["removed_13gram"] == {"gsm8k": 1} and report["removed_exact_prompt"] == {"tiny_chat": 1}


def test_dpo_from_a_model_that_is_not_an_sft_output_warns_and_a_dry_run_writes_nothing(tmp_path, monkeypatch, capsys):
    import shutil
    import sys

    from smolrecipe.cli import main

    sys.path.insert(0, str(REPO / "tests"))
    from hubkit import model_folder

    root = tmp_path / "repo"
    shutil.copytree(PT, root / "post_training")
    model_folder(root / "plain", hidden=16, layers=1, intermediate=32)
    pairs = root / "outputs" / "data" / "tiny" / "chat" / "dpo-train.jsonl"
    pairs.parent.mkdir(parents=True)
    pairs.write_text(json.dumps({"prompt": [{"role": "user", "content": "1 + 1?"}],
                                 "chosen": [{"role": "assistant", "content": "2"}],
                                 "rejected": [{"role": "assistant", "content": "3"}]}) + "\n")
    monkeypatch.setenv("SMOLRECIPE_ROOT", str(root))
    monkeypatch.setenv("SMOLRECIPE_OUTPUTS", str(root / "outputs"))
    monkeypatch.chdir(root)
    before = sorted(p for p in root.rglob("*"))
    assert main(["dpo", "--recipe", "tiny", "--model", "plain", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "warning: plain is not an SFT output of this project" in out and "nothing written" in out
    assert sorted(p for p in root.rglob("*")) == before


def test_sft_with_synthetic_chats_trains_on_them_after_decontamination(tmp_path, monkeypatch):
    """`make sft SYNTHETIC=outputs/data/smoltalk` adds every subset folder the synthetic pipeline wrote (its rows as
    data/smoltalk.py writes them, provenance fields included) to the recipe's own data; a planted GSM8K test problem
    among them is removed like any other. Counted by hand: the tiny generator's 4,000 chats + 3 synthetic - 1."""
    import shutil

    from smolrecipe.post_training import launch

    root = tmp_path / "repo"
    for d in ("post_training", "evaluation/data"):
        shutil.copytree(REPO / d, root / d)
    monkeypatch.setenv("SMOLRECIPE_ROOT", str(root))
    monkeypatch.setenv("SMOLRECIPE_OUTPUTS", str(root / "outputs"))
    monkeypatch.chdir(root)
    gsm = json.loads((REPO / "evaluation" / "data" / "gsm8k" / "test.jsonl").read_text().splitlines()[5])

    def conv(user, reply, subset):
        return {"messages": [{"role": "system", "content": "Rewrite the text."}, {"role": "user", "content": user},
                             {"role": "assistant", "content": reply}], "subset": subset, "variant": "x", "seed_id": user[:8]}

    synthetic = root / "outputs" / "data" / "smoltalk"
    (synthetic / "rewrite").mkdir(parents=True)
    (synthetic / "summarize").mkdir()
    (synthetic / "rewrite" / "00000.jsonl").write_text(
        json.dumps(conv("the cat sat on the warm mat all day long", "A cat rested on a warm mat.", "smol-rewrite")) + "\n"
        + json.dumps(conv("Please rewrite: " + gsm["question"], gsm["answer"], "smol-rewrite")) + "\n")
    (synthetic / "summarize" / "00001.jsonl").write_text(
        json.dumps(conv("a long email about the quarterly budget review", "The budget review moved.", "smol-summarize")) + "\n")

    args, extra = launch.parse_args("sft", ["--recipe", "tiny", "--synthetic", "outputs/data/smoltalk"])
    s = launch.prepare("sft", args, extra)
    assert [src["field"] for src in s.synthetic] == ["--synthetic outputs/data/smoltalk/rewrite",
                                                      "--synthetic outputs/data/smoltalk/summarize"]
    prepared, report = launch.prepare_data(s, launch.check_data(s))
    rows = [json.loads(line) for line in prepared.read_text().splitlines()]
    assert len(rows) == report["kept"] == 4000 + 3 - 1 and report["removed_13gram"] == {"gsm8k": 1}
    replies = [r["messages"][-1]["content"] for r in rows]
    assert "A cat rested on a warm mat." in replies and "The budget review moved." in replies
    assert gsm["answer"] not in replies


def test_sft_killed_mid_run_resumes_from_its_last_complete_checkpoint(tmp_path):
    """SIGKILL to the whole launch (our process, accelerate and TRL) once a checkpoint exists; the same command
    again says it resumes from the newest complete checkpoint and trains only the steps after it."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    sys.path.insert(0, str(REPO / "tests"))
    from hubkit import model_folder

    root = tmp_path / "repo"
    for d in ("post_training", "evaluation/data"):
        shutil.copytree(REPO / d, root / d)
    model_folder(root / "outputs" / "checkpoints" / "tiny-long-context" / "400", hidden=64, layers=2, intermediate=128)
    env = {**os.environ, "SMOLRECIPE_ROOT": str(root), "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1"}
    env.pop("SMOLRECIPE_OUTPUTS", None)
    steps, every = 200, 10
    argv = [sys.executable, "-m", "smolrecipe", "sft", "--recipe", "tiny", "--max_steps", str(steps), "--save_strategy",
            "steps", "--save_steps", str(every), "--logging_steps", str(every), "--save_total_limit", "3"]
    work = root / "outputs" / "post_training" / "tiny" / "sft-run"

    def complete_checkpoints():
        return sorted(int(p.name.split("-")[1]) for p in work.glob("checkpoint-*") if (p / "trainer_state.json").is_file())

    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not complete_checkpoints() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = complete_checkpoints()
    assert done and done[-1] < steps, f"no checkpoint before the end of the run: {done}"
    assert not (root / "outputs" / "post_training" / "tiny" / "sft").exists()  # nothing published by a killed run

    r = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"from outputs/post_training/tiny/sft-run/checkpoint-{done[-1]}" in r.stdout
    losses = [line for line in r.stdout.splitlines() if line.startswith("{'loss'")]
    assert len(losses) == (steps - done[-1]) // every  # only the steps after the checkpoint were trained
    assert (root / "outputs" / "post_training" / "tiny" / "sft" / "smolrecipe_post_training.json").is_file()
