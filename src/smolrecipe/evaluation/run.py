"""Run one suite on one transformers model folder with lighteval 0.13, in-process, offline when the data is local.

    result = evaluate(model_dir, SUITES["tiny"], out_dir)      # writes out_dir/{results.json, results.md, lighteval/}

What this adds around lighteval's Pipeline (each one a 0.13 behaviour that bit someone):
- the chat template is set by the suite (`override_chat_template`), never by whether the tokenizer has one;
- a fresh sample cache per evaluation, in a work folder where the model is a relative symlink: 0.13 keys its
  cache on the model config (not the weights), and an absolute model path would put the cache inside the model;
- every task's data set is loaded first; one that does not load is reported by name and the others still run;
- an evaluated item is never one of its own few-shot examples (0.13 compares a document with its few-shot pool
  after renaming it, so the check never fires when the few-shot split is the evaluation split, as in BBH);
- the run is keyed on the model's weights, the tokenizer, the task file and lists, the settings and the lighteval
  version: the same evaluation is skipped and says so, anything else starts fresh and says why.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.model_folder import is_model_folder, weights_folder
from smolrecipe.evaluation.suites import Suite, evaluation_dir, tasks_file
from smolrecipe.paths import resolve, shown
from smolrecipe.publish import atomic_write_text
from smolrecipe.runkey import fingerprint, run_key
from smolrecipe.versions import runtime_versions

RESULTS, TABLE = "results.json", "results.md"


# ------------------------------------------------------------------------------------------------ inputs
def check_model(model_dir: Path) -> Path:
    """The transformers folder to load: `model_dir` itself, or `model_dir/model` for a local-engine checkpoint."""
    if not model_dir.exists():
        raise RecipeError("no such model folder", file=str(model_dir), field="MODEL",
                          fix="point MODEL at a transformers folder (config.json + *.safetensors) or a checkpoint folder")
    model_dir = weights_folder(model_dir)
    if not is_model_folder(model_dir):
        raise RecipeError("not a transformers model folder (no config.json with *.safetensors beside it)",
                          file=str(model_dir), field="MODEL",
                          fix="point MODEL at outputs/checkpoints/<run>/<step>/model or another save_pretrained folder")
    return model_dir


def find_tokenizer(model_dir: Path, given: str | None) -> Path:
    """The tokenizer: --tokenizer, else the model folder's own, else the one its checkpoint's config names."""
    if given:
        tok = Path(given) if Path(given).exists() else resolve(given)
        if not (tok / "tokenizer.json").is_file() and not (tok / "tokenizer_config.json").is_file():
            raise RecipeError("no tokenizer in this folder", file=str(tok), field="TOKENIZER",
                              fix="give a folder written by save_pretrained (tokenizer.json), e.g. outputs/tokenizers/tiny")
        return tok
    if (model_dir / "tokenizer_config.json").is_file() or (model_dir / "tokenizer.json").is_file():
        return model_dir
    cfg = model_dir.parent / "config.yaml"
    if cfg.is_file():
        import yaml

        name = ((yaml.safe_load(cfg.read_text()) or {}).get("tokenizer") or {}).get("tokenizer_name_or_path")
        if name and (resolve(name) / "tokenizer.json").is_file():
            return resolve(name)
        if name:
            raise RecipeError(f"the checkpoint's config names tokenizer {name!r}, which is not here", file=str(cfg),
                              field="tokenizer.tokenizer_name_or_path",
                              fix="train it (make tokenizer RECIPE=tiny) or pass TOKENIZER=<folder>")
    raise RecipeError("the model folder has no tokenizer and no checkpoint config naming one", file=str(model_dir),
                      field="TOKENIZER", fix="pass TOKENIZER=<tokenizer folder> (e.g. outputs/tokenizers/tiny)")


def has_chat_template(tokenizer_dir: Path) -> bool:
    if (tokenizer_dir / "chat_template.jinja").is_file():
        return True
    cfg = tokenizer_dir / "tokenizer_config.json"
    return cfg.is_file() and bool(json.loads(cfg.read_text() or "{}").get("chat_template"))


def model_revision(model_dir: Path) -> dict:
    """What identifies the weights: a digest of the folder, plus step and tokens when it is a local checkpoint."""
    rev = {"path": shown(model_dir), "weights": fingerprint(model_dir)[:23]}
    meta = model_dir.parent / "metadata.json"
    if meta.is_file():
        m = json.loads(meta.read_text())
        rev.update(step=m.get("step"), run=m.get("run"), consumed_tokens=m.get("consumed_tokens_total"))
    return rev


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------ lighteval
@contextlib.contextmanager
def _inside(folder: Path):
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def _quiet_lighteval() -> None:
    for name in ("lighteval", "accelerate", "datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)


def expand_tasks(specs: list[str]):
    """lighteval's own expansion of `task|fewshot` specs (supersets such as smollm2_bbh) into task configs."""
    from lighteval.tasks.registry import Registry

    try:
        registry = Registry(tasks=",".join(specs), custom_tasks=str(tasks_file()))
    except ValueError as e:  # an unknown task name
        raise RecipeError(str(e), file=str(tasks_file()), field="task list",
                          fix="use task names defined in evaluation/tasks.py or lighteval's built-ins") from None
    return sorted((cfg for cfgs in registry.task_to_configs.values() for cfg in cfgs), key=lambda c: c.full_name)


def load_check(configs, log) -> tuple[list[str], dict[str, str]]:
    """(specs whose data loads, {spec: why not} for the others): each task's data set, loaded the way lighteval will."""
    from datasets import load_dataset

    ok, failed = [], {}
    for cfg in configs:
        spec = cfg.full_name
        try:
            load_dataset(path=cfg.hf_repo, name=cfg.hf_subset, revision=cfg.hf_revision)
            ok.append(spec)
        except Exception as e:  # noqa: BLE001 - any failure to load is reported by name and the run goes on
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
            failed[spec] = f"{type(e).__name__}: {reason}"
            log(f"warning: task {spec}: its data set {cfg.hf_repo} ({cfg.hf_subset}) does not load: {failed[spec]}")
    return ok, failed


def spec_keys(results: dict) -> dict:
    """lighteval 0.13 names results `task:fewshot`; use the `task|fewshot` form of the task lists."""
    def spec(key: str) -> str:
        name, _, shots = key.rpartition(":")
        return f"{name}|{shots}" if name and shots.isdigit() else key
    return {spec(k): v for k, v in results.items()}


def _same_item(a, b) -> bool:
    if a.specific and b.specific and "item" in a.specific:
        return a.specific.get("item") == b.specific.get("item")
    return a.query == b.query and a.choices == b.choices


def exclude_self_from_fewshots(tasks: dict, documents: dict) -> int:
    """Replace an evaluated document found among its own few-shot examples by the next example of the pool.

    lighteval 0.13 means to do this (FewShotSampler drops `x == doc`), but it renames the evaluated document
    first, so the comparison never matches. Returns how many documents were fixed."""
    fixed = 0
    for name, task in tasks.items():
        for doc in documents.get(name, []):
            if not any(_same_item(ex, doc) for ex in doc.fewshot_samples):
                continue
            kept = [ex for ex in doc.fewshot_samples if not _same_item(ex, doc)]
            spare = [ex for ex in task.fewshot_docs() if not _same_item(ex, doc) and ex not in kept]
            doc.fewshot_samples = kept + spare[: len(doc.fewshot_samples) - len(kept)]
            fixed += 1
    return fixed


def _pipeline_class():
    from lighteval.pipeline import Pipeline

    class SuitePipeline(Pipeline):
        def _init_tasks_and_requests(self, tasks: str):
            super()._init_tasks_and_requests(tasks)
            exclude_self_from_fewshots(self.tasks_dict, self.documents_dict)

    return SuitePipeline


def run_lighteval(model_dir: Path, tokenizer: Path, specs: list[str], suite: Suite, work: Path, *,
                  batch_size: int, max_samples: int | None) -> tuple[dict, dict]:
    """lighteval's results dict and one example prompt per task, from a fresh work folder (cache, outputs).

    lighteval switches gradients off for the whole process when its transformers model module is imported; the
    mode the caller had is put back afterwards (a training step later in the same process needs it)."""
    import torch

    grad = torch.is_grad_enabled()
    try:
        return _run_lighteval(model_dir, tokenizer, specs, suite, work, batch_size=batch_size, max_samples=max_samples)
    finally:
        torch.set_grad_enabled(grad)


def _run_lighteval(model_dir: Path, tokenizer: Path, specs: list[str], suite: Suite, work: Path, *,
                   batch_size: int, max_samples: int | None) -> tuple[dict, dict]:
    import torch
    from lighteval.logging.evaluation_tracker import EvaluationTracker
    from lighteval.models.model_input import GenerationParameters
    from lighteval.models.transformers.transformers_model import TransformersModelConfig
    from lighteval.pipeline import ParallelismManager, PipelineParameters

    class LocalModelConfig(TransformersModelConfig):
        def get_model_sha(self):  # lighteval asks the Hub for a revision; a local folder has none (digest recorded)
            return ""

    _quiet_lighteval()
    work.mkdir(parents=True, exist_ok=True)
    (work / "model").symlink_to(model_dir.resolve(), target_is_directory=True)
    tokenizer = tokenizer.resolve()  # before moving into the work folder
    with _inside(work):
        config = LocalModelConfig(
            model_name="model", tokenizer=str(tokenizer), batch_size=batch_size,
            dtype="bfloat16" if torch.cuda.is_available() else "float32",
            device="cuda" if torch.cuda.is_available() else "cpu",
            override_chat_template=suite.chat_template, cache_dir="cache",
            generation_parameters=GenerationParameters(temperature=0.0))
        tracker = EvaluationTracker(output_dir=str(work / "lighteval"), save_details=True)
        params = PipelineParameters(launcher_type=ParallelismManager.ACCELERATE, custom_tasks_directory=str(tasks_file()),
                                    max_samples=max_samples)
        pipeline = _pipeline_class()(tasks=",".join(specs), pipeline_parameters=params, evaluation_tracker=tracker,
                                     model_config=config)
        prompts = {name: pipeline.model.prompt_manager.prepare_prompt(docs[0])
                   for name, docs in pipeline.documents_dict.items() if docs}
        pipeline.evaluate()
        pipeline.save_and_push_results()
        return pipeline.get_results(), prompts


# ------------------------------------------------------------------------------------------------ one evaluation
def evaluation_key(model_dir: Path, tokenizer: Path, suite: Suite, settings: dict) -> str:
    reads = [model_dir, tokenizer, tasks_file(), suite.task_file(), evaluation_dir() / "data" / "tiny"]
    return run_key(f"eval-{suite.name}", reads=reads, config={**settings, "lighteval": runtime_versions()["lighteval"]})


def evaluate(model: str | Path, suite: Suite, out_dir: Path, *, tokenizer: str | None = None, batch_size: int = 32,
             max_samples: int | None = None, force: bool = False, log=print) -> dict:
    """Evaluate `model` on `suite` into `out_dir` (results.json, results.md, lighteval/); returns results.json's dict."""
    from smolrecipe.evaluation.table import markdown_table

    model_dir = check_model(Path(model))
    tok = find_tokenizer(model_dir, tokenizer)
    if suite.chat_template and not has_chat_template(tok):
        raise RecipeError(f"the {suite.name} suite applies the chat template, and this tokenizer has none",
                          file=str(tok), field="SUITE", fix="evaluate a chat model (SFT/DPO output) or use SUITE=base")
    settings = {"suite": suite.name, "batch_size": batch_size, "max_samples": max_samples,
                "chat_template": suite.chat_template}
    key = evaluation_key(model_dir, tok, suite, settings)
    done = out_dir / RESULTS
    if done.is_file() and not force:
        previous = json.loads(done.read_text())
        if previous.get("key") == key:
            log(f"already evaluated (key {key}): {shown(done)}; skipping (--force to rerun)")
            return previous
        log(f"{shown(out_dir)} holds another evaluation (key {previous.get('key')}, now {key}): starting fresh")
    configs = expand_tasks(suite.tasks())
    specs, failed = load_check(configs, log)
    if not specs:
        raise RecipeError("no task of the suite has loadable data: " + "; ".join(f"{k}: {v}" for k, v in failed.items()),
                          field="SUITE", fix="download the data sets (on a machine with Hub access) or use SUITE=tiny")
    log(f"evaluating {shown(model_dir)} on the {suite.name} suite: {len(specs)} tasks, chat template "
        f"{'on' if suite.chat_template else 'off'} (key {key})")
    out_dir = out_dir.resolve()
    work = out_dir.parent / f".work-{out_dir.name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    start = time.time()
    try:
        results, prompts = run_lighteval(model_dir, tok, specs, suite, work, batch_size=batch_size,
                                         max_samples=max_samples)
        summary = {
            "key": key, "suite": suite.name, "model": model_revision(model_dir), "tokenizer": shown(tok),
            "chat_template": suite.chat_template, "tasks_file_sha256": file_sha256(tasks_file()),
            "task_specs": specs, "failed_tasks": failed, "settings": settings, "seconds": round(time.time() - start, 1),
            "versions": runtime_versions(), "results": spec_keys(results["results"]), "example_prompts": prompts,
            "config_tasks": {k: {f: str(getattr(v, f, None)) for f in ("hf_repo", "hf_subset", "hf_revision", "num_fewshots",
                                                               "stop_sequence", "generation_size")}
                             for k, v in spec_keys(results.get("config_tasks", {})).items()},
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        lighteval_out = out_dir / "lighteval"
        shutil.rmtree(lighteval_out, ignore_errors=True)
        shutil.move(str(work / "lighteval"), lighteval_out)
        atomic_write_text(out_dir / TABLE, markdown_table(summary, suite))
        atomic_write_text(done, json.dumps(summary, indent=1, default=str))  # last: its presence means done
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {shown(out_dir / TABLE)} and {shown(done)} in {summary['seconds']} s")
    return summary
