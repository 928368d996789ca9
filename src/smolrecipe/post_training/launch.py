"""One post-training step (sft or dpo) of one recipe: check, show the command, prepare data, run TRL, publish.

    code = run_step("sft", ["--recipe", "tiny"])           # what `make sft RECIPE=tiny` does

Order: parse and check the YAML with TRL's parser -> print the command -> check the starting model and the data
(a dry run stops here, having written nothing) -> decontaminate the training data into a local jsonl -> run
`accelerate launch --config_file post_training/accelerate/<x>.yaml -m trl.scripts.<step> --config <launch.yaml>`
(what `trl <step> --config ... --accelerate_config ...` runs) -> move the model into the output folder with a
record of recipe, data, parent model, command and versions.

Layout: the output folder is the YAML's `output_dir` (outputs/post_training/<recipe>/<config>); TRL writes into
`<output_dir>-run/` (the launch YAML with resolved paths, checkpoints, train.log), which is deleted once the model
is published. The run key covers the YAML, the starting model's weights, the data, the template and the launch
options: a rerun with the same key is skipped (done) or resumed from TRL's last checkpoint; any change starts
fresh and says why.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.model_folder import is_model_folder, weights_folder
from smolrecipe.paths import config_path, repo_root, resolve, shown, user_path
from smolrecipe.post_training import data as ptdata
from smolrecipe.post_training.recipe import Recipe, check, check_markers, config_file, parse, training_sets

ACCELERATE = ("cpu", "ddp", "zero3", "fsdp")
DEFAULT_ACCELERATE = {"tiny": "cpu", "smollm2-1.7B": "zero3", "smollm2-360M": "ddp", "smollm2-135M": "ddp"}
RECORD = "smolrecipe_post_training.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


@dataclass
class Step:
    step: str                 # sft | dpo
    recipe: str
    config: str               # the YAML's name: sft, dpo, sft-lora
    yaml: Path
    rec: Recipe
    accelerate: str
    extra: list[str]          # TRL overrides from the command line and for the CPU
    model: Path               # the starting model as named (before staging)
    out: Path
    work: Path
    notes: list[str] = field(default_factory=list)
    synthetic: list[dict] = field(default_factory=list)  # --synthetic: more training sources (SFT)

    @property
    def launch_yaml(self) -> Path:
        return self.work / "launch.yaml"


def parse_args(step: str, argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog=f"smolrecipe {step}", description=f"{step.upper()} with TRL from "
                                f"post_training/<recipe>/{step}.yaml; arguments after the known ones go to TRL "
                                "(e.g. --max_steps 10)")
    p.add_argument("--recipe", default="tiny", help="post_training/<recipe>/ (RECIPE=)")
    p.add_argument("--config", default=step, help=f"the YAML's name in that folder (CONFIG=; default {step})")
    p.add_argument("--accelerate", choices=ACCELERATE, default=None,
                   help="post_training/accelerate/<name>.yaml (ACCELERATE=; default: cpu for tiny, ddp or zero3 for GPUs)")
    p.add_argument("--model", default=None, help="starting model folder, instead of the YAML's model_name_or_path (MODEL=)")
    if step == "sft":
        p.add_argument("--synthetic", default=None, metavar="DIR",
                       help="also train on the synthetic pipeline's chats, DIR/<subset>/*.jsonl (SYNTHETIC=)")
    p.add_argument("--force", action="store_true", help="train again even when the same run is already done")
    p.add_argument("--dry-run", action="store_true", help="check the inputs and print the command; write nothing")
    args, extra = p.parse_known_args(argv)
    bad = [a for a in extra if a.startswith("-") and not a.startswith("--")]
    if bad or (extra and not extra[0].startswith("--")):
        raise RecipeError(f"cannot read the arguments {extra}", field="ARGS",
                          fix=f"pass TRL overrides as --key value, e.g. make {step} ARGS=\"--max_steps 10\"")
    return args, extra


def has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def prepare(step: str, args: argparse.Namespace, extra: list[str]) -> Step:
    """Parse and check everything the YAML says; nothing is read from the model or the data yet."""
    yaml_path = config_file(args.recipe, args.config)
    accelerate = args.accelerate or DEFAULT_ACCELERATE.get(args.recipe, "ddp")
    cpu_flags = ["--use_cpu", "true", "--bf16", "false"] if accelerate == "cpu" else []
    # parsing checks bf16 against the hardware: a GPU recipe is still checked here on a CPU-only machine
    parse_only = [] if accelerate == "cpu" or has_gpu() else ["--use_cpu", "true"]
    rec = parse(yaml_path, step, [*cpu_flags, *extra, *parse_only])
    check(rec)
    yaml_cpu = bool(rec.raw.get("use_cpu")) and rec.raw.get("bf16") is False
    out = resolve(rec.train.output_dir)
    model = user_path(args.model) if args.model else resolve(rec.model.model_name_or_path or "")
    if not (args.model or rec.model.model_name_or_path):
        raise RecipeError("no starting model", file=str(yaml_path), field="model_name_or_path",
                          fix="name a transformers folder (for DPO: this recipe's SFT output)")
    return Step(step=step, recipe=args.recipe, config=args.config, yaml=yaml_path, rec=rec, accelerate=accelerate,
                extra=[*([] if yaml_cpu else cpu_flags), *extra], model=model, out=out,
                work=out.with_name(out.name + "-run"), synthetic=synthetic_sources(getattr(args, "synthetic", None)))


def command(s: Step, *, absolute: bool = False) -> list[str]:
    """The launch command as shown (paths as configs name them) or, `absolute`, as run: outputs/ may live elsewhere
    (SMOLRECIPE_OUTPUTS), and TRL reads the paths from the repository root."""
    acc = repo_root() / "post_training" / "accelerate" / f"{s.accelerate}.yaml"
    name = (lambda p: str(Path(p).resolve())) if absolute else config_path
    return ["accelerate", "launch", "--config_file", name(acc), "-m", f"trl.scripts.{s.step}",
            "--config", name(s.launch_yaml), *s.extra]


def show_command(s: Step) -> None:
    cmd = command(s)
    print(f"{s.step} {s.recipe}: {shown(s.yaml)} from {shown(s.model)} -> {shown(s.out)} "
          f"(accelerate config {s.accelerate})")
    print("$ " + shlex.join(cmd))
    print(f"  (the same as: trl {s.step} --config {config_path(s.launch_yaml)} --accelerate_config "
          f"{cmd[3]}{' ' + shlex.join(s.extra) if s.extra else ''}; {config_path(s.launch_yaml)} is "
          f"{shown(s.yaml)} with its paths resolved and the data replaced by its decontaminated copy)")


# ------------------------------------------------------------------------------------------------ model
def last_step(recipe: str) -> str:
    """The final step of a recipe's context extension (its converted checkpoint is the SFT's starting model)."""
    import yaml

    cfg = repo_root() / "pretraining" / "configs" / recipe / "long-context.yaml"
    return str(yaml.safe_load(cfg.read_text())["tokens"]["train_steps"]) if cfg.is_file() else "STEP"


def check_start_model(s: Step) -> Path:
    """The transformers folder to start from (a local-engine checkpoint's model/), or an error naming the path."""
    m = s.model
    first = (f"make sft RECIPE={s.recipe}" if s.step == "dpo" else "make demo (or make long-context RECIPE=tiny)"
             if s.recipe == "tiny" else f"make convert FROM=outputs/checkpoints/{s.recipe}-long-context/{last_step(s.recipe)}")
    where = "MODEL" if s.model != resolve(s.rec.model.model_name_or_path or "") else "model_name_or_path"
    if not m.exists():
        raise RecipeError(f"no such model folder (the starting model of this {s.step})", file=config_path(m), field=where,
                          fix=f"run {first} first, or point {where} at a transformers folder")
    m = weights_folder(m)
    if not is_model_folder(m, adapters=True):
        raise RecipeError("not a transformers model folder (no config.json with *.safetensors)", file=config_path(m),
                          field=where, fix="point it at a folder written by save_pretrained (a checkpoint's model/ "
                                           "or a post-training output)")
    if s.step == "dpo":
        record = m / RECORD
        parent = json.loads(record.read_text()).get("step") if record.is_file() else None
        if parent != "sft":
            s.notes.append(f"warning: {config_path(m)} is not an SFT output of this project (no {RECORD} with step "
                           f"sft): the SmolLM2 recipe runs DPO on its SFT model (make sft RECIPE={s.recipe})")
    return m


def tokenizer_of(s: Step, model_dir: Path) -> Path:
    """Where the starting model's tokenizer is: the folder itself, or the tokenizer its checkpoint config names."""
    if (model_dir / "tokenizer_config.json").is_file() or (model_dir / "tokenizer.json").is_file():
        return model_dir
    from smolrecipe.evaluation.run import find_tokenizer

    try:
        return find_tokenizer(model_dir, None)
    except RecipeError as e:
        raise RecipeError(f"the starting model has no tokenizer ({e.problem})", file=config_path(model_dir),
                          field="model_name_or_path", fix="save its tokenizer into the folder "
                          "(tokenizer.save_pretrained(folder)); TRL loads both from model_name_or_path") from None


def stage_start(s: Step, model_dir: Path, tok_dir: Path) -> Path:
    """A folder TRL can load model and tokenizer from: `model_dir` itself, or links to its files plus the tokenizer."""
    if tok_dir == model_dir:
        return model_dir
    start = s.work / "start"
    if start.exists():
        shutil.rmtree(start)
    start.mkdir(parents=True)
    for f in model_dir.iterdir():
        if f.is_file():
            (start / f.name).symlink_to(f.resolve())
    for f in tok_dir.iterdir():
        if f.is_file() and (f.name.startswith("tokenizer") or f.name in TOKENIZER_FILES):
            shutil.copy2(f, start / f.name)
    return start


def check_template(s: Step, tok_dir: Path) -> None:
    """assistant_only_loss without a template file: the starting model's own template must carry the markers."""
    if s.step != "sft" or not s.rec.train.assistant_only_loss or getattr(s.rec.train, "chat_template_path", None):
        return
    jinja = tok_dir / "chat_template.jinja"
    cfg = tok_dir / "tokenizer_config.json"
    template = jinja.read_text() if jinja.is_file() else (json.loads(cfg.read_text()).get("chat_template")
                                                          if cfg.is_file() else None)
    check_markers(template if isinstance(template, str) else None, where=config_path(tok_dir),
                  field="chat template (no chat_template_path in the YAML)")


# ------------------------------------------------------------------------------------------------ data
def check_data(s: Step) -> list[dict]:
    """The training sources; local files are read and checked now (columns, message format), Hub ones when loaded."""
    sources = [*training_sets(s.rec), *s.synthetic]
    for src in sources:
        if src["path"] == "json" and src["data_files"]:
            for f in ptdata.local_data_files(src, s.yaml):
                if s.recipe == "tiny" and not f.is_file() and ptdata.tiny_chat_dir() == f.parent:
                    continue  # generated by this step before it is read
                ptdata.read_local_jsonl(f, s.step, f"{src['field']}.data_files", s.yaml)
    return sources


def synthetic_sources(folder: str | None) -> list[dict]:
    """--synthetic DIR: the synthetic pipeline's output (data/smoltalk.py writes DIR/<subset>/*.jsonl), one source
    per subset folder, trained on beside the recipe's own data."""
    if not folder:
        return []
    root = user_path(folder)
    subsets = sorted({p.parent for p in [*root.glob("*.jsonl"), *root.glob("*/*.jsonl")]})
    if not subsets:
        raise RecipeError("no synthetic chats here (no *.jsonl in it or in its subset folders)", file=shown(root),
                          field="SYNTHETIC", fix="run data/smoltalk.py first (it writes outputs/data/smoltalk/<subset>/)")
    return [{"field": f"--synthetic {shown(d)}", "path": "json", "name": None, "split": "train",
             "data_files": [str(d / "*.jsonl")], "columns": ["messages"]} for d in subsets]


def prepare_data(s: Step, sources: list[dict]) -> tuple[Path, dict]:
    """All training rows, decontaminated, in one local jsonl (reused while inputs and benchmarks are unchanged)."""
    from smolrecipe.runkey import fingerprint

    if s.recipe == "tiny":
        ptdata.write_tiny_chat_data()
    folder = s.out.parent / "data"
    prepared, report_file = folder / f"{s.config}-train.jsonl", folder / f"{s.config}-decontamination.json"
    inputs = {src["field"]: [fingerprint(f) for f in ptdata.local_data_files(src, s.yaml)]
              if src["path"] == "json" and src["data_files"] else f"{src['path']}:{src['name']}:{src['split']}"
              for src in sources}
    bench = {ptdata.benchmark_name(f): fingerprint(f) for f in ptdata.benchmark_files()}
    if prepared.is_file() and report_file.is_file():
        report = json.loads(report_file.read_text())
        if report.get("inputs") == inputs and report.get("benchmark_files") == bench:
            print(f"training data up to date: {shown(prepared)} ({report['kept']:,} rows)")
            return prepared, report
    rows = [r for src in sources for r in ptdata.load_rows(src, s.step, s.yaml)]
    kept, report = ptdata.decontaminate(rows, folder / "decont-index")
    if not kept:
        raise RecipeError("decontamination removed every training row", file=str(s.yaml), field="datasets",
                          fix=f"look at {shown(report_file)}")
    report.update(inputs=inputs, benchmark_files=bench, sources=[{k: v for k, v in src.items()} for src in sources])
    from smolrecipe.publish import atomic_write_text

    atomic_write_text(prepared, "".join(json.dumps(r) + "\n" for r in kept))
    atomic_write_text(report_file, json.dumps(report, indent=1))
    print(ptdata.describe(report) + f" -> {shown(prepared)}")
    return prepared, report


# ------------------------------------------------------------------------------------------------ run
def launch_config(s: Step, start: Path, prepared: Path) -> dict:
    """The recipe YAML with every path absolute and the data replaced by its decontaminated copy."""
    cfg = dict(s.rec.raw)
    cfg["model_name_or_path"] = str(start.resolve())
    cfg["output_dir"] = str(s.work.resolve())
    cfg.pop("dataset_name", None)
    cfg["datasets"] = [{"path": "json", "data_files": str(prepared.resolve()), "split": "train"}]
    if cfg.get("chat_template_path"):
        cfg["chat_template_path"] = str(resolve(cfg["chat_template_path"]).resolve())
    return cfg


def key_of(s: Step, model_dir: Path, tok_dir: Path, prepared: Path) -> str:
    from smolrecipe.runkey import run_key

    reads = [s.yaml, model_dir, tok_dir, prepared, repo_root() / "post_training" / "accelerate" / f"{s.accelerate}.yaml"]
    if getattr(s.rec.train, "chat_template_path", None):
        reads.append(resolve(getattr(s.rec.train, "chat_template_path", None)))
    return run_key(f"post_training-{s.step}", reads=reads, writes=[s.out], config={"extra": s.extra})


def resume_point(s: Step, key: str) -> Path | None:
    """TRL's last checkpoint of an interrupted run with the same key; anything else in the work folder goes."""
    state = s.work / "run.json"
    if s.work.exists():
        same = state.is_file() and json.loads(state.read_text()).get("run_key") == key
        # transformers writes trainer_state.json last: a checkpoint without it was cut by the kill and is not used
        ckpts = sorted((p for p in s.work.glob("checkpoint-*") if (p / "trainer_state.json").is_file()),
                       key=lambda p: int(p.name.split("-")[-1]))
        if same and ckpts:
            print(f"resuming run {key} from {shown(ckpts[-1])}")
            return ckpts[-1]
        print(f"starting fresh: {'the inputs changed since ' + shown(s.work) if not same else 'no checkpoint in ' + shown(s.work)}"
              f" (run {key})")
        shutil.rmtree(s.work)
    else:
        print(f"starting fresh: run {key}")
    return None


def run_trl(s: Step, resume: Path | None) -> int:
    argv = [sys.executable, "-m", "accelerate.commands.launch", *command(s, absolute=True)[2:]]
    if resume is not None:
        argv += ["--resume_from_checkpoint", str(resume)]
    # progress bars are noise in a log (and in the demo's); the per-step loss lines stay
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "ACCELERATE_LOG_LEVEL": "warning",
           "TRANSFORMERS_VERBOSITY": "warning", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    log = s.work / "train.log"
    with open(log, "a", encoding="utf-8") as f:
        proc = subprocess.Popen(argv, cwd=repo_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1)
        for line in proc.stdout:
            f.write(line)
            sys.stdout.write(line)
        return proc.wait()


def logged_dicts(log: Path) -> list[dict]:
    """The dicts transformers' printer writes per logging step (values as strings) from TRL's output."""
    import ast

    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{'") and line.endswith("}"):
            try:
                out.append({k: _number(v) for k, v in ast.literal_eval(line).items()})
            except (ValueError, SyntaxError, AttributeError):
                continue
    return out


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def train_metrics(s: Step) -> dict:
    """First and last logged loss, the final summary (runtime, train_loss) and, for DPO, the reward accuracy."""
    logs = logged_dicts(s.work / "train.log")
    steps = [d for d in logs if "loss" in d]
    final = next((d for d in reversed(logs) if "train_runtime" in d), {})
    out = {"first_loss": steps[0]["loss"] if steps else None, "last_loss": steps[-1]["loss"] if steps else None,
           "logged_steps": len(steps), **{k: final[k] for k in ("train_runtime", "train_loss", "epoch") if k in final}}
    for key in ("rewards/accuracies", "rewards/margins", "mean_token_accuracy", "num_tokens"):
        if steps and key in steps[-1]:
            out[key] = steps[-1][key]
    return out


def merge_adapter(s: Step, start: Path, tmp: Path) -> None:
    """A LoRA run saves only its adapter: keep it in adapter/ and write the merged model beside, so that eval, chat
    and DPO read the output like any transformers folder (the adapter names a start folder that is deleted)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    (tmp / "adapter").mkdir()
    for f in s.work.iterdir():
        if f.is_file() and f.name.startswith("adapter_"):
            shutil.copy2(f, tmp / "adapter" / f.name)
    base = AutoModelForCausalLM.from_pretrained(start)
    PeftModel.from_pretrained(base, s.work).merge_and_unload().save_pretrained(tmp)


def publish(s: Step, record: dict, start: Path) -> None:
    """Move TRL's saved model (not its checkpoints) into the output folder, atomically, with the record."""
    from smolrecipe.publish import publishing

    lora = (s.work / "adapter_config.json").is_file()
    with publishing(s.out) as tmp:
        for f in s.work.iterdir():
            if f.is_file() and f.name not in ("run.json", "training_args.bin") and not (lora and f.name.startswith("adapter_")):
                shutil.copy2(f, tmp / f.name)
        if lora:
            merge_adapter(s, start, tmp)
        if not (tmp / "chat_template.jinja").is_file() and getattr(s.rec.train, "chat_template_path", None):
            shutil.copy2(resolve(getattr(s.rec.train, "chat_template_path", None)), tmp / "chat_template.jinja")
        (tmp / RECORD).write_text(json.dumps(record, indent=1, default=str))
    shutil.rmtree(s.work)


def run_step(step: str, argv: list[str]) -> int:
    from smolrecipe.versions import runtime_versions

    args, extra = parse_args(step, argv)
    s = prepare(step, args, extra)
    show_command(s)
    model_dir = check_start_model(s)
    tok_dir = tokenizer_of(s, model_dir)
    check_template(s, tok_dir)
    sources = check_data(s)
    for note in s.notes:
        print(note)
    if args.dry_run:
        print(f"dry run: inputs checked ({shown(model_dir)}, {len(sources)} data source(s)); nothing written")
        return 0
    if s.accelerate != "cpu" and not has_gpu():
        raise RecipeError(f"accelerate config {s.accelerate} needs GPUs and there is none here", field="ACCELERATE",
                          fix=f"make {step} RECIPE={s.recipe} ACCELERATE=cpu for a CPU run (slow beyond the tiny recipe)")
    t = time.time()
    prepared, report = prepare_data(s, sources)
    key = key_of(s, model_dir, tok_dir, prepared)
    rec_file = s.out / RECORD
    if rec_file.is_file() and json.loads(rec_file.read_text()).get("run_key") == key and not args.force:
        print(f"{step} already complete: {shown(s.out)} (run {key}; same recipe, model and data; --force trains again)")
        return 0
    resume = resume_point(s, key)
    s.work.mkdir(parents=True, exist_ok=True)
    start = stage_start(s, model_dir, tok_dir)
    import yaml

    s.launch_yaml.write_text(yaml.safe_dump(launch_config(s, start, prepared), sort_keys=False))
    (s.work / "run.json").write_text(json.dumps({"run_key": key}))
    code = run_trl(s, resume)
    if code != 0:
        print(f"{step} failed (exit {code}); TRL's output is in {shown(s.work / 'train.log')}; "
              f"make {step} RECIPE={s.recipe} again resumes from its last checkpoint")
        return 1
    metrics = train_metrics(s)
    parent = model_dir / RECORD
    record = {"step": step, "recipe": s.recipe, "config": config_path(s.yaml), "run_key": key,
              "config_yaml": s.yaml.read_text(), "launch": s.launch_yaml.read_text(), "command": command(s),
              "parent_model": {"path": config_path(model_dir), "tokenizer": config_path(tok_dir),
                               "record": json.loads(parent.read_text()) if parent.is_file() else None},
              "data": {"file": config_path(prepared), **{k: report[k] for k in ("rows", "kept", "removed_13gram",
                                                                                 "removed_exact_prompt", "benchmarks")},
                       "sources": report.get("sources")},
              "metrics": metrics, "seconds": round(time.time() - t, 1), "versions": runtime_versions()}
    publish(s, record, start)
    loss = (f"loss {metrics['first_loss']:.3f} -> {metrics['last_loss']:.3f}" if metrics.get("last_loss") is not None
            else f"train loss {metrics['train_loss']}" if "train_loss" in metrics else "no loss logged")
    acc = f", reward accuracy {metrics['rewards/accuracies']:.2f}" if "rewards/accuracies" in metrics else ""
    print(f"{step} finished in {time.time() - t:.0f} s: {loss}{acc}; model -> {shown(s.out)}")
    return 0
