"""Every iteration gets the same LR on nanotron as in the local engine, along a chain of resumed stage files.

nanotron (bc1f5a61) builds a torch LambdaLR over its schedule formula, saves `lr_scheduler.state_dict()` in each
checkpoint, and on resume calls `load_state_dict` then `_initial_step()` (serialize/optimizer.py), which advances
the scheduler by one step. This test runs those mechanics with torch's own LambdaLR, launch after launch, on the
YAML smolrecipe prepares for nanotron, and compares the LR each iteration trains with against the local engine's."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from smolrecipe.config import load_recipe, loads_nanotron_yaml
from smolrecipe.engine.launch import prepare_config
from smolrecipe.schedule import Schedule, lr_at, lr_for_iteration

def nanotron_scheduler(cfg):
    """What nanotron's lr_scheduler_builder returns for this config: a LambdaLR over the schedule formula."""
    peak = cfg.schedule.learning_rate
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    sched = Schedule.from_args(cfg.schedule)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_at(step, sched) / peak)


def run_chain(recipe, prepare: bool, saved: dict | None = None) -> dict[tuple[str, int], float]:
    """Simulate nanotron over every launch of the recipe; returns the LR used by each (launch, iteration)."""
    saved = {} if saved is None else saved  # step -> scheduler state saved in that step's checkpoint
    used = {}
    for cfg in [*recipe.stages, recipe.long_context]:
        nanotron_cfg = loads_nanotron_yaml(prepare_config(cfg, recipe)[0]) if prepare else cfg
        opt, sched = nanotron_scheduler(nanotron_cfg)
        resume = cfg.checkpoints.resume_checkpoint_path
        if resume and cfg.checkpoints.load_lr_scheduler:
            sched.load_state_dict(copy.deepcopy(saved[int(Path(resume).name)]))
            sched._initial_step()  # nanotron's load_lr_scheduler
        for it in range(cfg.data_stages[-1].start_training_step, cfg.tokens.train_steps + 1):
            used[(cfg.source_file, it)] = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
            saved[it] = copy.deepcopy(sched.state_dict())
    return used


@pytest.fixture
def recipe(scratch_repo):
    return load_recipe("tiny", check_tokenizer=False)


def test_the_prepared_yaml_gives_every_iteration_the_local_engines_lr(recipe):
    used = run_chain(recipe, prepare=True)
    for (source, it), lr in used.items():
        expected = lr_for_iteration(it, Schedule.from_args(recipe.stages[0].schedule))  # the local engine: f(it - 1)
        assert lr == pytest.approx(expected, rel=1e-12, abs=1e-15), (source, it)
    assert len(used) == 400 + 20  # stages 1-4 and the long-context branch (381-400)


def test_without_the_compensation_each_resume_runs_one_step_ahead(recipe):
    """The issue's finding, reproduced with torch's mechanics: tiny stage 4 ends its last 3 iterations at LR 0."""
    used = run_chain(recipe, prepare=False)
    stage4 = recipe.stages[3].source_file
    assert [used[(stage4, it)] for it in (398, 399, 400)] == [0.0, 0.0, 0.0]
    local = lr_for_iteration(398, Schedule.from_args(recipe.stages[0].schedule))
    assert local > 0
    lead = {}
    for cfg in [*recipe.stages, recipe.long_context]:
        lead[Path(cfg.source_file).name] = prepare_config(cfg, recipe)[2]
    assert lead == {"stage1.yaml": 0, "stage2.yaml": 1, "stage3.yaml": 2, "stage4.yaml": 3, "long-context.yaml": 4}


def test_the_lead_is_read_from_a_checkpoint_when_one_exists(recipe, scratch_repo):
    saved: dict = {}
    run_chain(recipe, prepare=True, saved=saved)
    # a nanotron checkpoint at step 291 (the end of stage 2) with its saved scheduler, where stage 3 resumes
    ckpt = scratch_repo / "outputs" / "checkpoints" / "tiny" / "291" / "lr_scheduler"
    ckpt.mkdir(parents=True)
    state = copy.deepcopy(saved[291])
    torch.save(state, ckpt / "lr_scheduler_pp-0-of-1_tp-0-of-1_exp-0-of-1.pt")
    text, _, lead = prepare_config(recipe.stages[2], recipe)
    assert lead == 2 and "read from" in text  # last_epoch 292 at step 291: one resume before, plus this one
    state["last_epoch"] += 5  # a checkpoint that lived through five more resumes (preemptions)
    torch.save(state, ckpt / "lr_scheduler_pp-0-of-1_tp-0-of-1_exp-0-of-1.pt")
    assert prepare_config(recipe.stages[2], recipe)[2] == 7


def test_a_preempted_stage_continues_from_its_newest_nanotron_checkpoint_with_the_same_lr(recipe, scratch_repo):
    import yaml

    saved: dict = {}
    run_chain(recipe, prepare=True, saved=saved)
    stage3 = recipe.stages[2]
    ckpt = scratch_repo / "outputs" / "checkpoints" / "tiny" / "330"  # written by the stage-3 launch, then preempted
    (ckpt / "lr_scheduler").mkdir(parents=True)
    torch.save(copy.deepcopy(saved[330]), ckpt / "lr_scheduler" / "lr_scheduler_pp-0-of-1_tp-0-of-1_exp-0-of-1.pt")
    (ckpt / "config.yaml").write_text(yaml.safe_dump({"general": {"run": stage3.general.run}}))
    (ckpt / "checkpoint_metadata.json").write_text("{}")
    text, _, lead = prepare_config(stage3, recipe)
    prepared = loads_nanotron_yaml(text)
    assert prepared.checkpoints.resume_checkpoint_path == str(ckpt) and lead == 3  # stage 3's own lead 2, resumed once more
    opt, sched = nanotron_scheduler(prepared)
    sched.load_state_dict(copy.deepcopy(saved[330]))
    sched._initial_step()
    for it in range(331, 361):
        assert opt.param_groups[0]["lr"] == pytest.approx(lr_for_iteration(it, Schedule.from_args(stage3.schedule)), rel=1e-12)
        opt.step()
        sched.step()
