"""Cards built from artifacts made here: lighteval results read with their protocol, a checkpoint's card with its
recipe's schedule plot and mixtures, a post-trained model's chat usage and recipe (credentials blanked), a data
set card from a data report, a classifier card, and parameter counts that agree with torch."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import DatasetCard, ModelCard

from hubkit import checkpoints, lighteval_results, model_folder, tokenizer_folder
from smolrecipe.hub import artifacts, evals
from smolrecipe.hub.cards import CardOptions
from smolrecipe.hub.plan import plan_data, plan_model, plan_run
from smolrecipe.errors import RecipeError


def test_lighteval_results_are_read_with_their_protocol(tmp_path):
    f = lighteval_results(tmp_path / "results_1.json", "m")
    rows = {(r.task, r.metric): r for r in evals.load_results(f).rows}
    assert set(rows) == {("hellaswag_cf|0", "acc"), ("tiny_arith|5", "em")}  # "all" is an average, not a task
    h, t = rows["hellaswag_cf|0", "acc"], rows["tiny_arith|5", "em"]
    assert (h.value, h.stderr, h.fewshot, h.dataset, h.split) == (0.3125, 0.0412, 0, "Rowan/hellaswag", "validation")
    assert h.normalisation == "LogProbCharNorm(ignore_first_space=True)"
    assert h.formulation == "cloze (CF) (from the task name)"
    assert (t.fewshot, t.normalisation, t.formulation) == (5, "n/a (not a log-likelihood metric)", "not recorded")
    assert evals.load_results(f).lighteval == "not recorded in the results file"
    (tmp_path / "protocol.json").write_text(json.dumps(
        {"lighteval_version": "0.13.0", "tasks": {"tiny_arith|5": {"formulation": "generative, exact match"}}}))
    run = evals.load_results(f)
    assert run.lighteval == "0.13.0"
    assert {r.task: r.formulation for r in run.rows}["tiny_arith|5"] == "generative, exact match"
    (tmp_path / "broken.json").write_text('{"config_general": {}}')
    with pytest.raises(RecipeError, match="not a lighteval results file"):
        evals.load_results(tmp_path / "broken.json")


def test_results_in_outputs_eval_are_matched_to_the_model_by_its_path(scratch_repo):
    mine, other = scratch_repo / "outputs" / "models" / "a", scratch_repo / "outputs" / "models" / "b"
    mine.mkdir(parents=True), other.mkdir(parents=True)
    lighteval_results(scratch_repo / "outputs" / "eval" / "a" / "results_1.json", "outputs/models/a")
    lighteval_results(scratch_repo / "outputs" / "eval" / "b" / "results_1.json", "outputs/models/b")
    found = evals.find_results(mine)
    assert [r.file.parent.name for r in found] == ["a"]
    assert evals.find_results(scratch_repo / "outputs" / "models" / "a" / "..", []) == []


@pytest.mark.parametrize("tied", [True, False])
def test_the_parameter_count_from_safetensors_headers_agrees_with_torch(tmp_path, tied):
    folder, n = model_folder(tmp_path / "m", with_tokenizer=False, tied=tied)
    assert artifacts.safetensors_parameters(folder) == n


def test_a_checkpoint_card_carries_the_recipe_schedule_stages_and_lineage(scratch_repo):
    tok = tokenizer_folder(scratch_repo / "outputs" / "tokenizers" / "t")
    run = scratch_repo / "outputs" / "checkpoints" / "t"
    checkpoints(run, [10, 20], tok)
    for step in (10, 20):  # name the tiny recipe as the config that trained them, and give step 20 a parent
        meta = json.loads((run / str(step) / "metadata.json").read_text())
        meta["config_file"] = "pretraining/configs/tiny/stage1.yaml"
        if step == 20:
            meta["lineage"] = [{"checkpoint": str(run / "10"), "step": 10, "run": "t-stage1"}]
        (run / str(step) / "metadata.json").write_text(json.dumps(meta))
    plot = scratch_repo / "outputs" / "runs" / "t-stage1" / "loss_lr.png"
    plot.parent.mkdir(parents=True)
    plot.write_bytes(b"\x89PNG not really")
    plan = plan_run(run, CardOptions(repo_id="me/t"), private=False)
    assert [r.name for r in plan.revisions] == ["step10-tokens1.28k", "step20-tokens2.56k", "main"]
    rev = plan.revisions[1]
    assert rev.generated["schedule.png"][:4] == b"\x89PNG" and rev.files["plots/t-stage1.png"] == plot
    card = ModelCard(rev.card)
    assert "smolrecipe-tiny" in card.data.tags and "`tiny` recipe" in card.text
    # 20 steps x 8 samples x 16 tokens = 2,560 tokens; the config weighs web 0.75 and code 0.25
    assert "| stage1-stable | 1–20 | 16 | 2,560 | web 75% (1,920), code 25% (640) |" in card.text
    assert "`outputs/checkpoints/t/10` (step 10, run `t-stage1`)" in card.text
    assert 'revision="step20-tokens2.56k"' in card.text and "`step10-tokens1.28k`" in card.text
    assert "![Learning-rate schedule of the tiny recipe, stages marked](schedule.png)" in card.text
    published = json.loads(rev.generated["training_metadata.json"])
    assert "files" not in published and published["lineage"][0]["checkpoint"] == "outputs/checkpoints/t/10"
    assert str(scratch_repo) not in rev.card
    assert set(rev.files) >= {"model.safetensors", "config.json", "tokenizer.json", "training_config.yaml"}
    assert "trainer_state.pt" not in rev.files


def test_a_post_trained_model_gets_chat_usage_and_its_recipe_without_credentials(tmp_path):
    model, _ = model_folder(tmp_path / "sft")
    (model / "smolrecipe.json").write_text(json.dumps({"kind": "sft", "parent": "outputs/checkpoints/tiny-long-context/400",
                                                       "data": "tiny chat tasks (train split)"}))
    (model / "sft.yaml").write_text("learning_rate: 0.001\nnum_train_epochs: 2\nhub_token: hf_neverPublishThis\n")
    (model / "optimizer.pt").write_bytes(b"state")
    plan = plan_model(model, CardOptions(repo_id="me/t-sft", base_model=["me/t"]), private=False)
    card = ModelCard(plan.revisions[0].card)
    assert "apply_chat_template" in card.text and "SFT" in card.text
    assert "num_train_epochs: 2" in card.text and "hf_neverPublishThis" not in card.text and "<redacted>" in card.text
    assert card.data.base_model == "me/t" and {"trl", "sft"} <= set(card.data.tags)
    assert "optimizer.pt" not in plan.revisions[0].files and any("optimizer.pt" in x for x in plan.left_out)


def _tokenized(folder: Path, docs: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    toks = np.arange(sum(docs), dtype="<u2") % 300
    toks.tofile(folder / "00000.ds")
    np.cumsum(docs).astype("<u8").tofile(folder / "00000.ds.index")
    (folder / "00000.ds.metadata").write_text(f"outputs/tokenizers/t/tokenizer.json|2\n{sum(docs)}")


def test_a_data_set_card_has_sources_pipeline_thresholds_decontamination_and_token_counts(tmp_path):
    root = tmp_path / "tiny"
    _tokenized(root / "tokenized" / "web", [400, 600])
    _tokenized(root / "tokenized" / "math", [100, 100, 300])
    report = {
        "tokenizer": "outputs/tokenizers/t/tokenizer.json",
        "sources": {"web": {"removed": {"🔻 - FILTER: 🥇 Gopher Quality: dropped_gopher_short_doc": 7}, "decontamination": {}},
                    "math": {"removed": {"🦠 - DECONT: 💥 N-grams decontaminate: dropped_contaminated": 34},
                             "decontamination": {"tiny-math": 34}},
                    "long": {"removed": {}, "decontamination": {}}},
        "prose": {}, "benchmarks": {"tiny-math": 4922},
        "classifiers": {"edu": {"threshold": 3, "scale": "edu", "f1": 0.6772, "precision": 0.6143, "recall": 0.7544, "n": 250}},
        "pipeline": {"web": {"stands_for": "DCLM", "steps": [{"step": "🥇 Gopher Quality (GopherQualityFilter)",
                                                              "settings": {"min_doc_words": 20}}]},
                     "math": {"stands_for": "OpenWebMath", "steps": [{"step": "💥 N-grams decontaminate", "settings": {"n_grams": 13}}]}},
    }
    (root / "REPORT.json").write_text(json.dumps(report))
    plan = plan_data(root, CardOptions(repo_id="me/tiny-data"), private=False)
    assert plan.repo_type == "dataset"
    rev = plan.revisions[0]
    assert set(rev.files) == {"REPORT.json", *(f"tokenized/{s}/00000.{e}" for s in ("web", "math") for e in ("ds", "ds.index", "ds.metadata"))}
    assert any("'long'" in w for w in plan.warnings)  # listed in the report, missing on disk
    card = DatasetCard(rev.card)
    assert card.data.license == "other" and card.data.license_name == "psf-2.0" and card.data.size_categories == ["n<1K"]
    assert "| `web` | DCLM | 2 | 1,000 | 7 |" in card.text and "| `math` | OpenWebMath | 3 | 500 | 0 |" in card.text
    assert "1,500 tokens in total" in card.text
    assert "- 🥇 Gopher Quality (GopherQualityFilter): min_doc_words=20" in card.text
    assert "| `web` | — | Gopher Quality | Gopher Quality 7 (gopher_short_doc 7) |" in card.text
    assert "| `math` | — | N-grams decontaminate | nothing |" in card.text  # dropped_contaminated is counted per benchmark
    assert "| edu | edu | 3 | 0.6772 |" in card.text
    assert "`tiny-math` (4,922)" in card.text and "| math | tiny-math | 34 |" in card.text


def test_a_classifier_card_has_its_training_data_scale_threshold_and_f1(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification

    root = tmp_path / "data" / "classifiers" / "edu"
    BertForSequenceClassification(BertConfig(vocab_size=300, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                             intermediate_size=32, num_labels=1)).save_pretrained(root / "model")
    tokenizer_folder(root / "model")
    info = {"threshold": 3, "scale": "edu", "backbone": "tiny-bert (trained from scratch)", "max_length": 128,
            "n_train": 2250, "n_val": 250, "epochs": 4, "val": {"f1": 0.6772, "precision": 0.6143, "recall": 0.7544, "mse": 0.6547, "n": 250}}
    (root / "classifier.json").write_text(json.dumps(info))
    ann = tmp_path / "data" / "annotations" / "edu.jsonl"
    ann.parent.mkdir(parents=True)
    ann.write_text(json.dumps({"id": "1", "text": "x", "score": 3, "annotator": "heuristic", "scale": "edu"}) + "\n")
    plan = plan_model(root, CardOptions(repo_id="me/edu"), private=False)
    assert plan.kind == "classifier" and {"classifier.json", "model.safetensors", "config.json"} <= set(plan.revisions[0].files)
    card = ModelCard(plan.revisions[0].card)
    assert card.data.pipeline_tag == "text-classification"
    assert {(r.metric_type, r.metric_value) for r in card.data.eval_results} == {("f1", 0.6772), ("precision", 0.6143), ("recall", 0.7544)}
    assert "round(score) >= 3" in card.text and "2250 / 250" in card.text and "heuristic" in card.text


def test_folders_that_are_not_what_they_are_pushed_as_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecipeError, match="not a model folder"):
        artifacts.describe_model(tmp_path / "empty")
    tok = tokenizer_folder(tmp_path / "tok")
    checkpoints(tmp_path / "run", [5], tok)
    with pytest.raises(RecipeError, match="RUN=") as e:
        artifacts.describe_model(tmp_path / "run")
    assert "pretraining run's checkpoints folder" in e.value.fix
    with pytest.raises(RecipeError, match="no checkpoint for step"):
        artifacts.describe_run(tmp_path / "run", [7])
    (tmp_path / "run" / "5" / "model" / "model.safetensors").write_bytes(b"damaged")
    with pytest.raises(RecipeError, match="does not match its recorded size/sha256"):
        artifacts.describe_model(tmp_path / "run" / "5")


def test_an_averaged_model_names_its_parents_and_is_not_called_post_trained(scratch_repo):
    model, _ = model_folder(scratch_repo / "outputs" / "averages" / "tiny-avg")
    parents = [str(scratch_repo / "outputs" / "checkpoints" / "tiny" / s) for s in ("180", "200")]
    (model / "lineage.json").write_text(json.dumps({"kind": "uniform-average", "parents": parents, "count": 2}))
    card = ModelCard(plan_model(model, CardOptions(repo_id="me/avg"), private=False).revisions[0].card)
    assert ("Derived (uniform-average) from 2 parent(s): `outputs/checkpoints/tiny/180`, "
            "`outputs/checkpoints/tiny/200`.") in card.text
    assert "## Post-training" not in card.text and "apply_chat_template" not in card.text
    assert str(scratch_repo) not in card.text
