"""The bad-input catalogue: every bad input the CLI and the data scripts accept, in one table.

Each row runs one command as a user would (in a scratch copy of the repository's configs) and must end with
exit code 2, a message that names the file or the field, a fix, and no traceback; nothing may have started
(no checkpoint, no run folder). Every new command adds its rows here.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
STAGE1 = "pretraining/configs/tiny/stage1.yaml"
FOLDERS = ["web-edu", "web", "code", "math", "code-edu", "math-edu", "textbooks", "long"]


@dataclass
class Row:
    name: str
    argv: list[str]                      # `python -m smolrecipe` arguments, or ["data/<script>.py", ...]
    says: list[str]                      # substrings the error must contain (the file or field, the problem)
    setup: Callable[[Path], None] = lambda root: None
    fix: str = "fix:"                    # how the fix is introduced (argparse lists the choices instead)
    outputs_allowed: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)  # environment changes ("{root}" = the scratch root, None = unset); runs in a subprocess


# ------------------------------------------------------------------------------------------ set-ups
def edit(rel: str, old: str, new: str):
    def setup(root: Path) -> None:
        p = root / rel
        text = p.read_text()
        assert old in text, (old, rel)
        p.write_text(text.replace(old, new, 1))
    return setup


def write(rel: str, data: bytes | str):
    def setup(root: Path) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return setup


def tiny_data(*, tamper: Callable[[Path], None] | None = None, tokenizer: str = "outputs/tokenizers/tiny"):
    """Tokenized folders for the tiny configs (random ids below the vocabulary), optionally tampered with."""
    def setup(root: Path) -> None:
        rng = np.random.default_rng(0)
        for name in FOLDERS:
            d = root / "outputs" / "data" / "tiny" / "tokenized" / name
            d.mkdir(parents=True, exist_ok=True)
            toks = rng.integers(1, 4096, size=20_000).astype("<u2")
            toks.tofile(d / "000_00000.ds")
            np.asarray([len(toks)], dtype="<u8").tofile(d / "000_00000.ds.index")
            (d / "000_00000.ds.metadata").write_text(f"{tokenizer}|2\n{len(toks)}")
        if tamper:
            tamper(root / "outputs" / "data" / "tiny" / "tokenized" / "web" / "000_00000.ds")
    return setup


def truncate(ds: Path) -> None:
    with open(ds, "r+b") as f:
        f.truncate(ds.stat().st_size - 1)


def plant_big_id(ds: Path) -> None:
    toks = np.fromfile(ds, dtype="<u2")
    toks[123] = 5000
    toks.tofile(ds)


def fake_tokenizer(root: Path) -> None:
    write("outputs/tokenizers/tiny/tokenizer.json", "{}")(root)


def tokenizer_retrained(root: Path) -> None:
    """The data records the sha256 of the tokenizer it was built with; the tokenizer at that path has changed since."""
    vocab = {f"t{i}": i for i in range(4096)}  # the configs' vocabulary size: the config check passes
    write("outputs/tokenizers/tiny/tokenizer.json", '{"model": {"vocab": %s}, "added_tokens": []}' % json.dumps(vocab))(root)
    for name in FOLDERS:
        write(f"outputs/data/tiny/tokenized/{name}.tokenizer.json",
              '{"tokenizer": "outputs/tokenizers/tiny", "sha256": "0123456789abcdef"}')(root)


def both(*setups):
    def setup(root: Path) -> None:
        for s in setups:
            s(root)
    return setup


def a_run_folder_with_one_file(root: Path) -> None:
    write("outputs/notes/readme.txt", "not a model")(root)


def a_model_folder(root: Path) -> None:
    """A transformers folder: config.json and a valid one-tensor safetensors file."""
    import json
    import struct

    write("model/config.json", json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))(root)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    write("model/model.safetensors", struct.pack("<Q", len(header)) + header + bytes(8))(root)



def a_model_with_tokenizer(root: Path) -> None:
    """A transformers folder at model/ with (placeholder) tokenizer files: enough for the checks before training."""
    a_model_folder(root)
    write("model/tokenizer_config.json", "{}")(root)
    write("model/tokenizer.json", "{}")(root)


def chat_rows(rel: str, rows: list[dict]):
    return write(rel, "".join(json.dumps(r) + "\n" for r in rows))


PLAIN_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
SFT, DPO = "post_training/tiny/sft.yaml", "post_training/tiny/dpo.yaml"

NO_TOKEN = {"HF_TOKEN": None, "HF_HOME": "{root}/hf-home"}  # no token in the environment, no stored login


def decont_inputs(root: Path) -> None:
    write("in-a/x.jsonl", '{"id": "1", "text": "plain text"}\n')(root)
    write("in-b/y.jsonl", '{"id": "2", "text": "other text"}\n')(root)
    write("bench.jsonl", '{"question": "q?", "answer": "a."}\n')(root)
    write("out/00000.jsonl.gz", b"written by an earlier run")(root)


CFG = "pretraining/configs/tiny/stage1.yaml"
ROWS = [
    # ---- nanotron YAML (python -m smolrecipe check FILE)
    Row("unknown top-level key", ["check", CFG], ["stage1.yaml", "generall", "unknown key"], edit(CFG, "general:", "generall:")),
    Row("unknown nested key", ["check", CFG], ["stage1.yaml", "general.projekt", "unknown key"], edit(CFG, "  project:", "  projekt:")),
    Row("missing WSD field", ["check", CFG], ["stage1.yaml", "min_decay_lr", "required field is missing"],
        edit(CFG, "    min_decay_lr: 0.0\n", "")),
    Row("string learning rate", ["check", CFG], ["stage1.yaml", "learning_rate"], edit(CFG, "learning_rate: 3.0e-03", "learning_rate: 3e-3")),
    Row("not YAML", ["check", "bad.yaml"], ["bad.yaml", "not valid YAML"], write("bad.yaml", "general: [unclosed\n  x: {")),
    Row("empty file", ["check", "empty.yaml"], ["empty.yaml", "the file is empty"], write("empty.yaml", "")),
    Row("top-level list", ["check", "list.yaml"], ["list.yaml", "top level is a list"], write("list.yaml", "- a\n- b\n")),
    Row("missing file", ["check", "nowhere.yaml"], ["nowhere.yaml", "config file not found"]),
    Row("binary config", ["check", "bin.yaml"], ["bin.yaml", "not a text file"], write("bin.yaml", b"\xff\xfe\x00general")),
    # ---- recipes and stages
    Row("unknown recipe", ["plan", "--recipe", "smollm2-7B"], ["RECIPE", "unknown recipe"]),
    Row("unknown stage", ["pretrain", "--recipe", "tiny", "--stage", "9"], ["STAGE", "stages 1..4"]),
    # ---- data the engine reads
    Row("data not built", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local"],
        ["tokenized data folder not found", "make data"]),
    Row("truncated .ds file", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local"],
        ["web/000_00000.ds", "truncated token file"], tiny_data(tamper=truncate)),
    Row("token ids >= vocab size", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local"],
        ["web/000_00000.ds", "token id 5000", "vocabulary of 4096"], tiny_data(tamper=plant_big_id)),
    Row("data of another tokenizer", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local"],
        ["000_00000.ds.metadata", "tokenized with 'HuggingFaceTB/cosmo2-tokenizer'"],
        tiny_data(tokenizer="HuggingFaceTB/cosmo2-tokenizer")),
    Row("data of an older build of the tokenizer", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local"],
        ["tokenized/web-edu", "another version of outputs/tokenizers/tiny"], lambda root: both(tiny_data(), tokenizer_retrained)(root)),
    Row("malformed tokenizer.json", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local"],
        ["outputs/tokenizers/tiny/tokenizer.json", "not a tokenizers tokenizer.json"], both(tiny_data(), fake_tokenizer)),
    Row("resume checkpoint missing", ["pretrain", "--recipe", "tiny", "--stage", "2", "--engine", "local"],
        ["outputs/checkpoints/tiny/218", "does not exist"], tiny_data()),
    # ---- engine flags
    Row("threads -1", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local", "--threads", "-1"],
        ["--threads", "at least one thread"], tiny_data()),
    Row("max-steps 0", ["pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "local", "--max-steps", "0"],
        ["--max-steps", "would train nothing"], tiny_data()),
    Row("SWA without a window", ["pretrain", "--recipe", "tiny", "--engine", "local", "--swa-interval", "5"],
        ["--swa-interval", "both"], tiny_data()),
    # ---- cooldown branches
    Row("cooldown FRACTION 0", ["cooldown", "--from", "outputs/checkpoints/tiny/200", "--fraction", "0"], ["FRACTION=0.0", "(0, 1)"]),
    Row("cooldown FRACTION negative", ["cooldown", "--from", "outputs/checkpoints/tiny/200", "--fraction", "-0.1"], ["FRACTION=-0.1"]),
    Row("cooldown FRACTION over 1", ["cooldown", "--from", "outputs/checkpoints/tiny/200", "--fraction", "1.5"], ["FRACTION=1.5"]),
    Row("cooldown STEPS 0", ["cooldown", "--from", "outputs/checkpoints/tiny/200", "--steps", "0"], ["STEPS=0", "at least one step"]),
    Row("cooldown unknown SHAPE", ["cooldown", "--from", "outputs/checkpoints/tiny/200", "--shape", "cubic", "--fraction", "0.2"],
        ["--shape", "invalid choice: 'cubic'"], fix="choose from"),
    Row("cooldown FROM not a checkpoint", ["cooldown", "--from", "outputs/notes", "--fraction", "0.2"],
        ["outputs/notes", "not a checkpoint"], a_run_folder_with_one_file),
    # ---- averaging
    Row("average of a folder that is no checkpoint", ["average", "outputs/notes"], ["outputs/notes", "not a checkpoint"],
        a_run_folder_with_one_file),
    Row("average of nothing that exists", ["average", "outputs/nope"], ["outputs/nope", "no such folder"]),
    # ---- data command and scripts
    Row("non-UTF-8 benchmark file", ["data", "--recipe", "tiny", "--benchmark", "latin1.jsonl"],
        ["latin1.jsonl", "line 1 is not UTF-8"], both(fake_tokenizer, write("latin1.jsonl", b'{"question": "caf\xe9", "answer": "x"}\n'))),
    Row("benchmark file missing", ["data", "--recipe", "tiny", "--benchmark", "none.jsonl"], ["none.jsonl", "not found"], fake_tokenizer),
    Row("tokenizer not trained", ["data", "--recipe", "tiny"], ["tokenizer.json", "tokenizer not found", "make tokenizer"]),
    Row("decontaminate into another run's output", ["data/decontaminate.py", "--benchmark", "bench.jsonl", "--index", "idx",
        "--input", "./in-b", "--out", "out", "--tasks", "1"], ["out", "holds files from another run", "--overwrite"], decont_inputs,
        outputs_allowed=["idx"]),
    # ---- evaluation
    Row("eval MODEL missing", ["eval", "--model", "outputs/nope", "--suite", "tiny"], ["outputs/nope", "MODEL", "no such model folder"]),
    Row("eval MODEL not given", ["eval", "--model", "", "--suite", "tiny"], ["MODEL", "no model given"]),
    Row("eval MODEL not a model folder", ["eval", "--model", "outputs/notes", "--suite", "tiny"],
        ["outputs/notes", "not a transformers model folder"], a_run_folder_with_one_file),
    Row("eval MODEL without a tokenizer", ["eval", "--model", "bare", "--suite", "tiny"], ["bare", "TOKENIZER", "no tokenizer"],
        both(write("bare/config.json", "{}"), write("bare/model.safetensors", b"weights"))),
    Row("eval TOKENIZER not a tokenizer", ["eval", "--model", "bare", "--tokenizer", "outputs/notes"],
        ["outputs/notes", "TOKENIZER", "no tokenizer in this folder"],
        both(write("bare/config.json", "{}"), write("bare/model.safetensors", b"weights"), a_run_folder_with_one_file)),
    Row("eval unknown SUITE", ["eval", "--model", "bare", "--suite", "large"], ["--suite", "invalid choice: 'large'"],
        fix="choose from"),
    Row("eval instruct suite, tokenizer without a chat template", ["eval", "--model", "bare", "--suite", "instruct"],
        ["bare", "SUITE", "has none"], both(write("bare/config.json", "{}"), write("bare/model.safetensors", b"weights"),
                                           write("bare/tokenizer_config.json", "{}"))),
    Row("eval --max-samples 0", ["eval", "--model", "bare", "--max-samples", "0"], ["--max-samples", "would evaluate nothing"]),
    Row("eval-sweep RUN missing", ["eval-sweep", "--run", "outputs/checkpoints-nope"], ["checkpoints-nope", "RUN", "no such run folder"]),
    Row("eval-sweep RUN without checkpoints", ["eval-sweep", "--run", "outputs/notes"], ["outputs/notes", "no checkpoints here"],
        a_run_folder_with_one_file),
    Row("data script with --tasks 0", ["data/decontaminate.py", "--benchmark", "bench.jsonl", "--index", "idx", "--input",
        "./in-a", "--out", "fresh", "--tasks", "0"], ["--tasks", "not a positive number"], decont_inputs, outputs_allowed=["idx"]),
    # ---- push (make push MODEL=... REPO=...)
    Row("push without MODEL", ["push", "--model", "", "--repo", "me/tiny"], ["MODEL", "nothing to push"]),
    Row("push of a folder that is not a model", ["push", "--model", "outputs/notes", "--repo", "me/tiny", "--dry-run"],
        ["outputs/notes", "MODEL", "not a model folder"], a_run_folder_with_one_file),
    Row("push to a REPO without a namespace", ["push", "--model", "model", "--repo", "tiny"], ["REPO", "'tiny' has no namespace"],
        a_model_folder),
    Row("push without a token", ["push", "--model", "model", "--repo", "me/tiny"], ["HF_TOKEN", "no Hugging Face token", "hf auth login"],
        a_model_folder, env=NO_TOKEN),
    Row("push with HF_HUB_OFFLINE=1", ["push", "--model", "model", "--repo", "me/tiny"], ["HF_HUB_OFFLINE", "DRY_RUN=1"],
        a_model_folder, env={**NO_TOKEN, "HF_TOKEN": "hf_notARealToken"}),
    Row("push RUN without checkpoints", ["push", "--run", "outputs/notes", "--repo", "me/tiny", "--dry-run"],
        ["outputs/notes", "RUN", "no checkpoints here"], a_run_folder_with_one_file),
    Row("push DATA that is not a data set", ["push", "--data", "outputs/notes", "--repo", "me/tiny", "--dry-run"],
        ["outputs/notes", "DATA", "not a data set folder"], a_run_folder_with_one_file),
    Row("push with a missing EVAL file", ["push", "--model", "model", "--repo", "me/tiny", "--eval", "nope.json", "--dry-run"],
        ["nope.json", "EVAL", "evaluation results not found"], a_model_folder),
    # ---- full-size data: Slurm plan, Stack-Edu contents, LLM steps (issue 10)
    Row("full-size data submitted without sbatch", ["data", "--recipe", "smollm2-1.7B", "--submit"], ["SLURM=1"]),
    Row("tiny data with SLURM=1", ["data", "--recipe", "tiny", "--submit"], ["SLURM", "tiny recipe builds its data here"]),
    Row("annotate without a judge", ["data/annotate.py", "--input", "./in-a", "--out", "ann"], ["--server", "choose the judge"],
        decont_inputs),
    Row("annotate at an endpoint that is down", ["data/annotate.py", "--input", "./in-a", "--out", "ann", "--server",
        "endpoint", "--endpoint", "http://127.0.0.1:9/v1", "--model", "judge"], ["--endpoint", "cannot reach"], decont_inputs),
    Row("annotate with vLLM where it is not installed", ["data/annotate.py", "--input", "./in-a", "--out", "ann",
        "--server", "vllm", "--model", "m"], ["--server vllm", "not installed"], decont_inputs),
    Row("synthetic chats from a missing seed folder", ["data/smoltalk.py", "--subset", "rewrite", "--input", "./nowhere",
        "--server", "dummy", "--model", "dummy"], ["--input", "does not exist"]),
    Row("unknown Stack-Edu language", ["data/stack_edu.py", "--language", "Cobol", "--input", "stack-edu", "--classifier",
        "c", "--out", "o"], ["--language", "unknown Stack-Edu language 'Cobol'", "CSharp"]),
    Row("Stack-Edu ids read as if they were code", ["data/web_filter.py", "--input", "stack-edu", "--out", "o"],
        ["--input", "stack-edu holds Software Heritage blob ids"]),
    # post-training (sft, dpo, chat)
    Row("sft unknown RECIPE", ["sft", "--recipe", "smollm2-7B"], ["RECIPE", "unknown recipe", "smollm2-1.7B"]),
    Row("sft unknown CONFIG", ["sft", "--recipe", "tiny", "--config", "sft-qlora"],
        ["sft-qlora.yaml", "CONFIG", "no such post-training config", "sft-lora"]),
    Row("sft YAML with a renamed TRL key", ["sft", "--recipe", "tiny", "--dry-run"],
        ["sft.yaml", "max_seq_length", "unknown key", "max_length"], edit(SFT, "max_length: 256", "max_seq_length: 256")),
    Row("sft YAML with a misspelt key", ["sft", "--recipe", "tiny", "--dry-run"],
        ["sft.yaml", "learnig_rate", "did you mean 'learning_rate'"], edit(SFT, "learning_rate:", "learnig_rate:")),
    Row("sft YAML with a value TRL refuses", ["sft", "--recipe", "tiny", "--dry-run"],
        ["sft.yaml", "packing_strategy"], edit(SFT, "packing_strategy: bfd", "packing_strategy: tight")),
    Row("sft override TRL cannot read", ["sft", "--recipe", "tiny", "--dry-run", "--max_steps", "ten"],
        ["sft.yaml", "--max_steps", "refused"]),
    Row("DPO training on test_prefs", ["dpo", "--recipe", "smollm2-135M", "--dry-run"],
        ["dpo.yaml", "datasets[0].split", "test_prefs", "a test split"],
        edit("post_training/smollm2-135M/dpo.yaml", "split: train_prefs", "split: test_prefs")),
    Row("sft template without generation markers", ["sft", "--recipe", "tiny", "--dry-run"],
        ["plain.jinja", "chat_template_path", "no {% generation %} markers"],
        both(write("plain.jinja", PLAIN_TEMPLATE), edit(SFT, "post_training/chat_template.jinja", "plain.jinja"))),
    Row("sft before pretraining", ["sft", "--recipe", "tiny", "--dry-run"],
        ["outputs/checkpoints/tiny-long-context/400", "model_name_or_path", "no such model folder", "make demo"]),
    Row("sft of a full recipe before conversion", ["sft", "--recipe", "smollm2-1.7B", "--dry-run"],
        ["outputs/models/smollm2-1.7B-long-context-5240000", "no such model folder",
         "make convert FROM=outputs/checkpoints/smollm2-1.7B-long-context/5240000"]),
    Row("dpo before sft", ["dpo", "--recipe", "tiny", "--dry-run"],
        ["outputs/post_training/tiny/sft", "no such model folder", "make sft RECIPE=tiny"]),
    Row("sft MODEL not a transformers folder", ["sft", "--recipe", "tiny", "--model", "outputs/notes", "--dry-run"],
        ["outputs/notes", "MODEL", "not a transformers model folder"], a_run_folder_with_one_file),
    Row("sft MODEL without a tokenizer", ["sft", "--recipe", "tiny", "--model", "model", "--dry-run"],
        ["model", "no tokenizer", "save_pretrained"], a_model_folder),
    Row("sft data without messages", ["sft", "--recipe", "tiny", "--model", "model", "--dry-run"],
        ["sft-train.jsonl", "datasets[0].data_files", "line 1 has no `messages` column"],
        both(a_model_with_tokenizer, chat_rows("outputs/data/tiny/chat/sft-train.jsonl", [{"text": "hello"}]))),
    Row("sft chat without an assistant turn", ["sft", "--recipe", "tiny", "--model", "model", "--dry-run"],
        ["sft-train.jsonl", "line 2", "no assistant turn", "all zero"],
        both(a_model_with_tokenizer, chat_rows("outputs/data/tiny/chat/sft-train.jsonl", [
            {"messages": [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]},
            {"messages": [{"role": "user", "content": "hello?"}]}]))),
    Row("dpo pairs without rejected", ["dpo", "--recipe", "tiny", "--model", "model", "--dry-run"],
        ["dpo-train.jsonl", "datasets[0].data_files", "no `rejected` column"],
        both(a_model_with_tokenizer, chat_rows("outputs/data/tiny/chat/dpo-train.jsonl", [
            {"prompt": [{"role": "user", "content": "1+1?"}], "chosen": [{"role": "assistant", "content": "2"}]}]))),
    Row("sft SYNTHETIC folder without chats", ["sft", "--recipe", "tiny", "--model", "model", "--synthetic",
                                               "outputs/data/smoltalk", "--dry-run"],
        ["outputs/data/smoltalk", "SYNTHETIC", "no synthetic chats", "data/smoltalk.py"],
        both(a_model_with_tokenizer, write("outputs/data/smoltalk/rewrite/notes.txt", "not chats"))),
    Row("sft SYNTHETIC chats without messages", ["sft", "--recipe", "tiny", "--model", "model", "--synthetic",
                                                 "outputs/data/smoltalk", "--dry-run"],
        ["00000.jsonl", "--synthetic", "line 1 has no `messages` column"],
        both(a_model_with_tokenizer, chat_rows("outputs/data/smoltalk/rewrite/00000.jsonl", [{"text": "hello"}]))),
    Row("sft data_files pattern matching nothing", ["sft", "--recipe", "tiny", "--model", "model", "--dry-run"],
        ["sft.yaml", "datasets[0].data_files", "matches no file", "fix the pattern"],
        both(a_model_with_tokenizer, edit(SFT, "data_files: outputs/data/tiny/chat/sft-train.jsonl",
                                          "data_files: outputs/data/mine/*.jsonl"))),
    Row("sft on GPU configs without a GPU", ["sft", "--recipe", "tiny", "--model", "model", "--accelerate", "zero3"],
        ["ACCELERATE", "needs GPUs", "ACCELERATE=cpu"], a_model_with_tokenizer),
    Row("chat MODEL missing", ["chat", "--model", "outputs/post_training/tiny/dpo", "--prompt", "hi"],
        ["outputs/post_training/tiny/dpo", "MODEL", "no such model folder", "make sft RECIPE=tiny"]),
    Row("chat MODEL not given", ["chat", "--model", ""], ["MODEL", "no model given"]),
    Row("chat negative TEMPERATURE", ["chat", "--model", "model", "--temperature", "-1"], ["TEMPERATURE", "negative"]),
    Row("chat TOP_P 0", ["chat", "--model", "model", "--top-p", "0"], ["TOP_P", "outside (0, 1]"]),
    Row("chat MAX_NEW_TOKENS 0", ["chat", "--model", "model", "--max-new-tokens", "0"], ["MAX_NEW_TOKENS", "generate nothing"]),
    Row("Stack-Edu contents neither S3 nor a folder", ["data/tokenize_folder.py", "--smollm2", "stack-edu", "--language",
        "Go", "--contents", "ftp://mirror/content"], ["--contents", "neither S3 nor a local folder"]),
]


@pytest.fixture
def scratch(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "pretraining" / "configs", root / "pretraining" / "configs")
    shutil.copytree(REPO / "post_training", root / "post_training")
    return root


def run_row(row: Row, root: Path) -> tuple[int, str]:
    env = {**os.environ, "SMOLRECIPE_ROOT": str(root), "SMOLRECIPE_OUTPUTS": str(root / "outputs"),
           "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    if row.argv[0].startswith("data/") or row.env:
        for k, v in row.env.items():
            env.pop(k, None) if v is None else env.__setitem__(k, v.format(root=root))
        cmd = [str(REPO / row.argv[0]), *row.argv[1:]] if row.argv[0].startswith("data/") else ["-m", "smolrecipe", *row.argv]
        r = subprocess.run([sys.executable, *cmd], cwd=root, env=env, capture_output=True, text=True, timeout=300)
        return r.returncode, r.stdout + r.stderr
    # the CLI in-process (much faster than a subprocess per row); an exception escaping main() fails the test
    from smolrecipe.cli import main

    old = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in ("SMOLRECIPE_ROOT", "SMOLRECIPE_OUTPUTS")}
    try:
        os.chdir(root)
        os.environ.update(SMOLRECIPE_ROOT=env["SMOLRECIPE_ROOT"], SMOLRECIPE_OUTPUTS=env["SMOLRECIPE_OUTPUTS"])
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(row.argv))
            except SystemExit as e:  # argparse
                code = e.code
    finally:
        os.chdir(old)
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_bad_input_is_refused_with_the_place_and_a_fix(row, scratch):
    row.setup(scratch)
    before = {p.name for p in (scratch / "outputs").iterdir()} if (scratch / "outputs").exists() else set()
    code, text = run_row(row, scratch)
    assert code == 2, text
    assert text.count("Traceback") == 0, text
    for s in row.says:
        assert s in text, (s, text)
    assert row.fix in text, text
    made = ({p.name for p in (scratch / "outputs").iterdir()} if (scratch / "outputs").exists() else set()) - before
    assert not made - {"runs", *row.outputs_allowed} and not (scratch / "outputs" / "runs").exists(), made  # nothing started
    assert not (scratch / "outputs" / "checkpoints").exists()
