"""Cards generated from the artifacts: model (and intermediate checkpoints), classifier, data set.

    card, extra = model_card(facts, CardOptions(repo_id="me/smollm2-tiny"), evals=runs, revisions=table)
    card = classifier_card(facts, options)
    card = dataset_card(data_facts, options)

Cards are huggingface_hub ModelCard / DatasetCard objects whose metadata the Hub reads (license, language,
library_name, pipeline_tag, base_model, datasets, tags, and the evaluation results as `model-index`);
`extra` holds the evaluation results again in the newer `.eval_results/<benchmark>.yaml` files, for the tasks
whose data set is a Hub id. Every number in a card comes from the folder being published (see artifacts.py);
where something is not recorded the card says so instead of guessing.

datatrove 0.10.1 ships a card generator (pipeline/inference/dataset_card_generator.py), but it describes synthetic
data from an inference run (prompts, generation model and its settings) and downloads and uploads the card
itself; a filtered pretraining corpus needs sources, filters and decontamination instead, so the data set card
is built here, on huggingface_hub's DatasetCard like the model cards.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from smolrecipe.hub import templates
from smolrecipe.hub.artifacts import DataFacts, ModelFacts, Stage, shown_path
from smolrecipe.hub.evals import EvalRow, EvalRun
from smolrecipe.plan import human
from smolrecipe.versions import NANOTRON_COMMIT, TRACKED, runtime_versions

PROJECT = "smolrecipe"
SMOLLM2 = "[SmolLM2](https://huggingface.co/collections/HuggingFaceTB/smollm2-6723884218bcda64b34d7db9) (Allal et al., 2025)"
SECRET_KEYS = re.compile(r"(token|secret|password|api_key)", re.I)


@dataclass
class CardOptions:
    repo_id: str
    revision: str = "main"
    license: str | None = None
    base_model: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    plots: dict[str, str] = field(default_factory=dict)   # caption -> path in the repo


# ------------------------------------------------------------------------------------------- shared pieces
def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def hub_id(name: str | None) -> str | None:
    """`name` when it looks like a Hub repo id (namespace/name) rather than a local path."""
    if not name or Path(name).is_absolute() or Path(name).exists() or name.startswith(("outputs/", "./", "../")):
        return None
    return name if re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", name) else None


def versions_table(trained_with: dict | None) -> str:
    now = runtime_versions()
    names = [n for n in ["python", *TRACKED] if (trained_with or {}).get(n) or now.get(n)]
    if trained_with:
        text = table(["package", "trained with", "published with"], [[n, trained_with.get(n) or "—", now.get(n) or "—"] for n in names])
    else:
        text = table(["package", "published with"], [[n, now.get(n)] for n in names])
    return text + (f"\n\nGPU pretraining runs use nanotron at commit `{NANOTRON_COMMIT}` (branch smollm3); "
                   "versions are pinned in `requirements/constraints.txt` and `src/smolrecipe/versions.py`.")


def redact_secrets(text: str) -> str:
    """A recipe YAML with any token-like key blanked: a card never carries credentials."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(data, dict) or not any(SECRET_KEYS.search(str(k)) for k in data):
        return text
    return yaml.safe_dump({k: ("<redacted>" if SECRET_KEYS.search(str(k)) else v) for k, v in data.items()}, sort_keys=False)


# ------------------------------------------------------------------------------------------- model cards
def architecture(facts: ModelFacts) -> str:
    c = facts.config
    rope = (c.get("rope_parameters") or {}).get("rope_theta", c.get("rope_theta"))
    rows = [
        ["architecture", ", ".join(c.get("architectures") or [c.get("model_type", "?")])],
        ["parameters", f"{facts.parameters:,} ({human(facts.parameters)}, counted from the safetensors files)"
         if facts.parameters else "not counted (no safetensors files)"],
    ]
    if "num_hidden_layers" in c:
        rows += [["layers / hidden / FFN", f"{c['num_hidden_layers']} / {c.get('hidden_size')} / {c.get('intermediate_size')}"],
                 ["attention heads / KV heads", f"{c.get('num_attention_heads')} / {c.get('num_key_value_heads', c.get('num_attention_heads'))}"]]
    rows += [["vocabulary", c.get("vocab_size", "?")],
             ["context length", f"{c.get('max_position_embeddings', '?')}" + (f" (RoPE theta {rope:g})" if rope else "")],
             ["tied embeddings", "yes" if c.get("tie_word_embeddings") else "no"],
             ["weights dtype", c.get("dtype") or c.get("torch_dtype") or "?"],
             ["tokenizer", f"`{facts.tokenizer}`" if facts.tokenizer else "not included"]]
    return table(["", ""], rows)


def stage_rows(stages: list[Stage]) -> list[list]:
    rows = []
    for s in stages:
        mix = ", ".join(f"{Path(f).name} {'' if w is None else f'{w:.0%} '}({t:,})" for f, w, t in s.mixture)
        rows.append([s.name, f"{s.first:,}–{s.last:,}", s.sequence_length, f"{s.tokens:,}", mix])
    return rows


def shown_ref(x) -> str:
    """A model or data reference for a card: Hub ids as they are, local paths as configs name them."""
    if isinstance(x, (list, tuple)):
        return ", ".join(shown_ref(v) for v in x)
    text = str(x)
    return text if hub_id(text) or not (Path(text).is_absolute() or Path(text).exists()) else shown_path(text)


def derivation(rec: dict) -> list[str]:
    """What a derived folder (an average, a post-training run) records about its parents."""
    parents = rec.get("parents") or ([rec["parent"]] if rec.get("parent") else [])
    if not parents:
        return []
    names = ", ".join(f"`{shown_ref(p)}`" for p in parents)
    return [f"Derived ({rec.get('kind', 'derived')}) from {len(parents)} parent(s): {names}."]


def training(facts: ModelFacts, opts: CardOptions) -> str:
    meta = facts.checkpoint
    if not meta:
        parts = ["", "This folder holds no smolrecipe pretraining metadata (no local-engine checkpoint around it), so the "
                 "stages and mixtures are not recorded here."] + [""] + derivation(facts.record)
        return "\n".join(parts + plots(opts))
    out = [f"\nPretrained by smolrecipe's {meta.get('engine', 'local')} engine "
           f"({meta.get('precision', '?')}), run `{meta.get('run')}`, {meta['step']:,} steps, "
           f"{meta.get('consumed_tokens_total', 0):,} tokens in total"
           + (f", from the `{facts.recipe}` recipe (`pretraining/configs/{facts.recipe}/`)." if facts.recipe else ".")]
    if facts.stages:
        out += ["", "### Stages and data mixtures", "",
                "Per stage: the iterations it covered, its sequence length, the tokens trained on, and per data folder "
                "the weight the config gave it and the tokens it actually supplied (from the checkpoint's metadata).", "",
                table(["stage", "iterations", "sequence", "tokens", "mixture: folder weight (tokens)"], stage_rows(facts.stages))]
    lineage = [f"`{shown_path(p['checkpoint'])}` (step {p['step']:,}, run `{p.get('run')}`)" for p in meta.get("lineage", [])]
    if lineage or meta.get("branch"):
        out += ["", "### Lineage", ""]
        out += [f"Resumed, in order, from: {' → '.join(lineage)}."] if lineage else []
        branch = meta.get("branch")
        if branch:
            out += [f"Branch: {branch.get('kind', 'derived run')} from `{branch.get('parent_checkpoint')}` "
                    f"({', '.join(f'{k} {v}' for k, v in branch.items() if k not in ('kind', 'parent_checkpoint'))})."]
    out += plots(opts)
    out += ["", "The exact configuration is in `training_config.yaml` (nanotron YAML) and the data consumption per "
            "stage and folder in `training_metadata.json`."]
    return "\n".join(out)


def plots(opts: CardOptions) -> list[str]:
    out = []
    for caption, path in opts.plots.items():
        out += ["", f"![{caption}]({path})"]
    return out


def post_training(facts: ModelFacts) -> str | None:
    rec, kind = facts.record, facts.post_training
    if not kind and not rec.get("recipe_files"):
        return None
    out = [f"{kind.upper()} with TRL." if kind else "The folder carries these recipe files."]
    parent = rec.get("parent") or rec.get("base_model") or rec.get("parents")
    if parent:
        out.append(f"Starting model: `{shown_ref(parent)}`.")
    if rec.get("data"):
        out.append(f"Data: {shown_ref(rec['data'])}.")
    if rec.get("trainer"):
        t = rec["trainer"]
        out.append(f"Trainer state: {t.get('global_step')} steps, {t.get('epoch')} epochs, last logged loss {t.get('last_logged_loss')}.")
    for name, text in (rec.get("recipe_files") or {}).items():
        out += ["", f"Recipe `{name}`:", "", "```yaml", redact_secrets(text).rstrip(), "```"]
    return "\n".join(out)


def primary_rows(runs: list[EvalRun]) -> list[EvalRow]:
    """The newest value of every (task, metric)."""
    latest: dict[tuple[str, str], EvalRow] = {}
    for run in runs:
        for row in run.rows:
            latest[(row.task, row.metric)] = row
    return list(latest.values())


def evaluation(runs: list[EvalRun], facts: ModelFacts) -> str:
    rows = primary_rows(runs)
    if not rows:
        return (f"No evaluation results were found for this model. Run `make eval MODEL={shown_path(facts.source)}` "
                "and push again: the card reads lighteval's results files.")
    body = []
    for r in sorted(rows, key=lambda r: (r.task, r.metric)):
        value = f"{r.value:.4f}" + (f" ± {r.stderr:.4f}" if isinstance(r.stderr, (int, float)) else "")
        data = (hub_id(r.dataset) or "local data") + (f" ({r.split})" if r.split else "") + (f", rev `{r.revision[:10]}`" if r.revision else "")
        body.append([r.task, r.metric, value, r.fewshot if r.fewshot is not None else "?", r.formulation, r.normalisation, data])
    versions = sorted({run.lighteval for run in runs})
    files = ", ".join(f"`{run.file.name}`" for run in runs)
    return "\n".join([
        f"Evaluated with lighteval ({'; '.join(versions)}); results files: {files}. Values are fractions (1.0 = all "
        "correct) with lighteval's standard error.", "",
        table(["task", "metric", "value", "few-shot", "formulation", "normalisation", "data"], body)])


def eval_metadata(runs: list[EvalRun], model_name: str):
    """(model-index EvalResults for the card metadata, {'.eval_results/<name>.yaml': text} for Hub benchmark ids)."""
    from huggingface_hub import EvalResult, EvalResultEntry, eval_result_entries_to_yaml

    results, entries = [], {}
    first_metric: dict[str, str] = {}
    for r in primary_rows(runs):
        ds = hub_id(r.dataset)
        results.append(EvalResult(
            task_type="text-generation", dataset_type=ds or r.task.split("|")[0], dataset_name=r.task.split("|")[0],
            dataset_config=r.subset if ds else None, dataset_split=r.split, dataset_revision=r.revision if ds else None,
            metric_type=r.metric, metric_value=round(r.value, 4), metric_name=f"{r.metric} ({r.fewshot}-shot)"))
        if ds and first_metric.setdefault(r.task, r.metric) == r.metric:
            entries.setdefault(ds, []).append(EvalResultEntry(
                dataset_id=ds, task_id=r.task.split("|")[0], value=round(r.value, 4), dataset_revision=r.revision,
                notes=f"{r.fewshot}-shot, {r.formulation}, normalisation {r.normalisation}"))
    files = {f".eval_results/{ds.split('/')[-1]}.yaml": yaml.safe_dump(eval_result_entries_to_yaml(e), sort_keys=False)
             for ds, e in entries.items()}
    return results, files


def usage(facts: ModelFacts, opts: CardOptions, instruct: bool) -> str:
    rev = "" if opts.revision == "main" else f', revision="{opts.revision}"'
    lines = ["from transformers import AutoModelForCausalLM, AutoTokenizer", "",
             f'repo = "{opts.repo_id}"',
             f"tokenizer = AutoTokenizer.from_pretrained(repo{rev})",
             f"model = AutoModelForCausalLM.from_pretrained(repo{rev})", ""]
    if instruct:
        lines += ['messages = [{"role": "user", "content": "What is 12 + 30?"}]',
                  "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors=\"pt\", return_dict=True)",
                  "outputs = model.generate(**inputs, max_new_tokens=64)",
                  'print(tokenizer.decode(outputs[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True))']
    else:
        lines += ['inputs = tokenizer("def fibonacci(n):", return_tensors="pt")',
                  "outputs = model.generate(**inputs, max_new_tokens=64, do_sample=False)",
                  "print(tokenizer.decode(outputs[0]))"]
    return "\n".join(lines)


def summary(facts: ModelFacts) -> str:
    size = f"{human(facts.parameters)}-parameter " if facts.parameters else ""
    arch = (facts.config.get("architectures") or ["transformers"])[0]
    recipe = facts.recipe
    how = (f"pretrained from scratch with the `{recipe}` recipe of {PROJECT}, which rebuilds the training of {SMOLLM2}"
           + (" at toy size, on CPU, in minutes" if recipe == "tiny" else "") if recipe else f"published with {PROJECT}")
    text = f"A {size}{arch} language model, {how}."
    if facts.checkpoint:
        text += (f" This is the checkpoint at step {facts.step:,} of run `{facts.checkpoint.get('run')}`, after "
                 f"{facts.tokens_seen:,} training tokens ({human(facts.tokens_seen)}).")
    if facts.post_training:
        text += f" It is post-trained ({facts.post_training.upper()}) and answers in its chat template."
    return text


def limitations(facts: ModelFacts) -> str:
    if facts.recipe == "tiny":
        return (f"A toy model for learning and testing the recipe: {human(facts.parameters or 0)} parameters trained on "
                f"{human(facts.tokens_seen or 0)} tokens of Python standard-library code and prose and generated "
                "arithmetic. It produces text in the style of its corpus and is not useful for any real task; do not "
                "deploy it.")
    text = ("A small language model: it can be wrong, repeat itself or produce biased or unsafe text, and it is not "
            "suited to facts that matter. English is the main language of its data. Evaluate it for your use.")
    if not facts.post_training:
        text += " This is a base model: it continues text; it is not tuned to follow instructions or to refuse."
    return text


def model_card(facts: ModelFacts, opts: CardOptions, *, evals: list[EvalRun], revisions: str | None = None):
    from huggingface_hub import ModelCard, ModelCardData

    instruct = bool(facts.post_training and facts.chat_template)
    name = opts.repo_id.split("/")[-1]
    results, extra = eval_metadata(evals, name)
    tags = [PROJECT, "smollm2", facts.config.get("model_type", "llama"), "text-generation"]
    tags += [f"{PROJECT}-{facts.recipe}"] if facts.recipe else []
    tags += ["trl", facts.post_training] if facts.post_training else []
    base = opts.base_model or [b for b in _as_list(facts.record.get("base_model")) if hub_id(b)]
    data = ModelCardData(
        license=opts.license or "apache-2.0", language=["en"], library_name="transformers", pipeline_tag="text-generation",
        base_model=(base[0] if len(base) == 1 else base) or None, datasets=opts.datasets or None, tags=tags, model_name=name if results else None, eval_results=results or None)
    note = None
    if facts.chat_template and not instruct:
        note = ("The tokenizer carries a ChatML chat template (used by post-training), but this is a base model: "
                "prompt it with plain text.")
    card = ModelCard.from_template(
        data, template_str=templates.MODEL, title=name, summary=summary(facts), usage=usage(facts, opts, instruct),
        usage_note=note, architecture=architecture(facts), revisions=revisions, training=training(facts, opts),
        post_training=post_training(facts), evaluation=evaluation(evals, facts),
        versions=versions_table((facts.checkpoint or {}).get("versions") or facts.record.get("versions")),
        limitations=limitations(facts), citation=templates.CITATION)
    return card, extra


def _as_list(x) -> list:
    return [] if x is None else list(x) if isinstance(x, (list, tuple)) else [x]


def revisions_table(entries: list[tuple[str, ModelFacts]], repo_id: str) -> str:
    rows = [[f"`{branch}`", f"{f.step:,}", f"{f.tokens_seen:,}", f.stages[-1].name if f.stages else "?"] for branch, f in entries]
    first = entries[0][0] if entries else "main"
    return "\n".join([
        "Every checkpoint of the run is a branch of this repository, named by step and tokens seen "
        "(the way SmolLM2's intermediate checkpoints are released):", "",
        table(["revision", "step", "tokens seen", "stage"], rows), "",
        f'Load one with `AutoModelForCausalLM.from_pretrained("{repo_id}", revision="{first}")`; '
        "`main` holds the newest checkpoint."])


# ------------------------------------------------------------------------------------------- classifier cards
def classifier_card(facts: ModelFacts, opts: CardOptions):
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    info, name = facts.classifier or {}, opts.repo_id.split("/")[-1]
    val, thr, scale = info.get("val", {}), info.get("threshold"), info.get("scale", "edu")
    results = [EvalResult(task_type="text-classification", dataset_type="held-out-annotations", dataset_name=f"{scale} annotations (held out)",
                          metric_type=m, metric_value=val[m], metric_name=f"{m} at threshold {thr}") for m in ("f1", "precision", "recall") if m in val]
    data = ModelCardData(license=opts.license or "apache-2.0", language=["en"], library_name="transformers",
                         pipeline_tag="text-classification", tags=[PROJECT, "smollm2", "data-filtering", f"{scale}-classifier", "regression"],
                         model_name=name, eval_results=results or None, datasets=opts.datasets or None)
    usage_code = "\n".join([
        "import torch",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer", "",
        f'repo = "{opts.repo_id}"',
        "tokenizer = AutoTokenizer.from_pretrained(repo)",
        "model = AutoModelForSequenceClassification.from_pretrained(repo)", "",
        'batch = tokenizer(["def add(a, b):\\n    \\"\\"\\"Return the sum of a and b.\\"\\"\\"\\n    return a + b"],',
        f'                  truncation=True, max_length={info.get("max_length", 512)}, return_tensors="pt")',
        "with torch.no_grad():",
        "    score = model(**batch).logits.squeeze(-1).item()",
        f"int_score = int(round(max({info.get('min_label', 0):g}, min(score, {3 if scale == 'math3' else 5}))))",
        f"keep = int_score >= {thr}"])
    train_rows = [["annotations", f"`{info['annotations']}`" if info.get("annotations") else "not recorded"],
                  ["annotator", info.get("annotator") or "not recorded"], ["scale", scale],
                  ["training / held-out documents", f"{info.get('n_train', '?')} / {info.get('n_val', val.get('n', '?'))}"],
                  ["epochs", info.get("epochs", "?")], ["max length (tokens)", info.get("max_length", "?")]]
    res_rows = [[k, f"{val[k]:.4f}" if isinstance(val.get(k), float) else val.get(k)] for k in ("f1", "precision", "recall", "mse", "positives", "n") if k in val]
    return ModelCard.from_template(
        data, template_str=templates.CLASSIFIER, title=name,
        summary=(f"A quality classifier in the style of FineWeb-Edu's: a regression head on "
                 f"{info.get('backbone', 'an encoder')} scoring documents on the `{scale}` scale; a document is kept when "
                 f"its rounded score is at least **{thr}**. It is one of the filters of {PROJECT}'s data pipelines, "
                 f"which rebuild {SMOLLM2}."),
        usage=usage_code, training_data=table(["", ""], train_rows),
        results=(f"Keep decision `round(score) >= {thr}` against the annotators' labels on held-out documents:\n\n"
                 + table(["metric", "value"], res_rows)),
        architecture=architecture(facts), versions=versions_table(None),
        limitations=("Trained on a small set of annotations; the score reflects its annotator's notion of quality on "
                     "its own corpus. Check precision on your data before filtering with it."
                     + (" The annotations of the tiny recipe come from an offline heuristic judge, not an LLM."
                        if info.get("annotator") == "heuristic" else "")),
        citation=templates.CITATION)


# ------------------------------------------------------------------------------------------- data set cards
def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                         (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")):
        if n < limit:
            return label
    return "n>1B"


def sources_section(facts: DataFacts) -> str:
    report = facts.report or {}
    described = report.get("pipeline") or {}
    rows = []
    for name in facts.tokens or {Path(p).parts[0]: 0 for p in facts.files}:
        src = (report.get("sources") or {}).get(name, {})
        removed = sum(v for k, v in src.get("removed", {}).items() if "dropped_contaminated" not in k)
        rows.append([f"`{name}`", (described.get(name) or {}).get("stands_for", "—"), f"{facts.documents.get(name, 0):,}",
                     f"{facts.tokens.get(name, 0):,}", f"{removed:,}"])
    total = sum(facts.tokens.values())
    return "\n".join([table(["source", "stands in for", "documents", "tokens", "removed on the way"], rows), "",
                      f"{total:,} tokens in total, tokenized with `{facts.tokenizer}`." if facts.tokenizer else f"{total:,} tokens in total."])


def _losses(removed: dict[str, int]) -> str:
    """'🔻 - FILTER: 🎓 Edu classifier: dropped_edu_score_below_3': 5395 -> 'Edu classifier 5,395 (edu_score_below_3 5,395)'."""
    by_step: dict[str, list[tuple[str, int]]] = {}
    for key, n in removed.items():
        if "dropped_contaminated" in key:  # the same documents are counted as contaminated_<benchmark>
            continue
        parts = [p.strip() for p in key.split(":")]
        step = _strip_emoji(parts[-2]) if len(parts) >= 2 else "?"
        by_step.setdefault(step, []).append((parts[-1].removeprefix("dropped_").removeprefix("dropped") or "dropped", n))
    return "; ".join(f"{step} {sum(n for _, n in rs):,} ({', '.join(f'{r} {n:,}' for r, n in rs)})"
                     for step, rs in by_step.items()) or "nothing"


def _strip_emoji(text: str) -> str:
    first, _, rest = text.partition(" ")
    return rest if rest and not any(c.isalnum() for c in first) else text


def _label(step: dict) -> str:
    return _strip_emoji(step.get("step", "?").split(" (")[0])  # '🥇 Gopher Quality (GopherQualityFilter)' -> 'Gopher Quality'


def pipeline_section(facts: DataFacts) -> str:
    report = facts.report or {}
    described = report.get("pipeline") or {}
    if not described:
        return "The report does not record the steps and their settings (rebuild the data with `make data` to record them)."
    steps: dict[str, dict] = {}
    for info in described.values():
        for st in info.get("steps", []):
            steps.setdefault(json.dumps(st, sort_keys=True, ensure_ascii=False), st)
    out = ["Steps, with the settings the datatrove step objects held:", ""]
    for st in steps.values():
        settings = ", ".join(f"{k}={v}" for k, v in st.get("settings", {}).items())
        out.append(f"- {st.get('step')}" + (f": {settings}" if settings else ""))
    out += ["", "What each folder went through, and what it lost on the way:", ""]
    removed_at = {**(report.get("prose") or {}), **(report.get("sources") or {})}
    rows = []
    for name, info in described.items():
        lost = _losses((removed_at.get(name) or {}).get("removed", {}))
        rows.append([f"`{name}`", info.get("input", "—"), " → ".join(_label(st) for st in info.get("steps", [])), lost])
    out.append(table(["folder", "input", "steps", "removed"], rows))
    clfs = report.get("classifiers") or {}
    if clfs:
        out += ["", "Quality classifiers (regression head; keep `round(score) >= threshold`), measured on held-out annotations:", "",
                table(["classifier", "scale", "threshold", "F1", "precision", "recall", "held-out docs"],
                      [[k, c.get("scale"), c.get("threshold"), c.get("f1"), c.get("precision"), c.get("recall"), c.get("n")] for k, c in clfs.items()])]
    return "\n".join(out)


def decontamination_section(facts: DataFacts) -> str:
    report = facts.report or {}
    bench = report.get("benchmarks") or {}
    stages = list((report.get("prose") or {}).items()) + list((report.get("sources") or {}).items())
    rows = [[where, b, n] for where, stage in stages for b, n in (stage.get("decontamination") or {}).items()]
    if not bench and not rows:
        return "No decontamination report in this folder."
    text = "Benchmarks indexed (n-grams): " + (", ".join(f"`{b}` ({n:,})" for b, n in bench.items()) or "none") + "."
    return text + "\n\n" + (table(["folder", "benchmark", "documents removed"], rows) if rows else "No document matched a benchmark.")


def dataset_card(facts: DataFacts, opts: CardOptions, recipe: str | None):
    from huggingface_hub import DatasetCard, DatasetCardData

    docs = sum(facts.documents.values())
    tiny = recipe == "tiny"
    extra = {"license_name": "psf-2.0", "license_link": "https://docs.python.org/3/license.html"} if tiny and not opts.license else {}
    data = DatasetCardData(license=opts.license or "other", language=["en", "code"], pretty_name=opts.repo_id.split("/")[-1],
                           size_categories=[size_category(docs)] if docs else None, task_categories=["text-generation"],
                           tags=[PROJECT, "smollm2", "datatrove", "pretraining"] + (["tokenized"] if facts.tokens else []), **extra)
    usage_text = ("Each `tokenized/<source>/` folder is datatrove's DocumentTokenizer output (`.ds` token ids, `.ds.index` "
                  "document ends, `.ds.metadata` tokenizer and count): nanotron's Nanoset reads it, and so does "
                  "`datatrove.utils.dataset.DatatroveFolderDataset`:\n\n```python\nfrom huggingface_hub import snapshot_download\n"
                  "from datatrove.utils.dataset import DatatroveFolderDataset\n\n"
                  f'path = snapshot_download("{opts.repo_id}", repo_type="dataset")\n'
                  f'ds = DatatroveFolderDataset(f"{{path}}/tokenized/{next(iter(facts.tokens), "web")}", seq_len=2048, token_size=2)\n'
                  "print(len(ds), ds[0][\"input_ids\"][:10])\n```") if facts.tokens else \
        f'```python\nfrom datasets import load_dataset\n\nds = load_dataset("{opts.repo_id}")\n```'
    summary = (f"The pretraining data of {PROJECT}'s `{recipe}` recipe, built with datatrove by `make data RECIPE={recipe}`"
               + (": a toy corpus made offline from the Python standard library (code and docstring prose) and generated "
                  "arithmetic, shaped like the sources of " + SMOLLM2 + "." if tiny else f", following {SMOLLM2}.")) if recipe else \
        f"A data set published with {PROJECT}."
    return DatasetCard.from_template(
        data, template_str=templates.DATASET, title=opts.repo_id.split("/")[-1], summary=summary, usage=usage_text,
        sources=sources_section(facts) if facts.tokens else table(["file"], [[f"`{p}`"] for p in facts.files]),
        pipeline=pipeline_section(facts), decontamination=decontamination_section(facts),
        versions=versions_table(None),
        limitations=("Toy data for testing the recipe; the licences of its sources apply (the Python standard library: "
                     "PSF License)." if tiny else "The licences and limitations of the upstream sources apply."),
        citation=templates.CITATION)
