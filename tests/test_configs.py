"""Every shipped nanotron YAML loads strictly; bad configs fail naming file, field and fix."""
import pytest
import yaml

from smolrecipe.config import RECIPES, load_nanotron_yaml, load_recipe
from smolrecipe.config.loader import to_dict
from smolrecipe.config.schema import NanotronConfig
from smolrecipe.errors import ConfigError
from smolrecipe.model import count_parameters

from conftest import edit_yaml


@pytest.mark.parametrize("name", RECIPES)
def test_shipped_recipes_validate(name):
    recipe = load_recipe(name)
    assert recipe.stages and recipe.long_context is not None
    s = recipe.schedule
    assert s.min_decay_lr == 0.0 and s.lr_warmup_style == "linear"
    assert s.lr_decay_starting_step + s.lr_decay_steps == recipe.final_step


def test_curriculum_shapes():
    big, tiny = load_recipe("smollm2-1.7B"), load_recipe("tiny")
    assert len(big.stages) == len(tiny.stages) == 4
    assert [c.tokens.train_steps for c in big.stages] == [2_861_023, 3_814_697, 4_716_000, 5_240_000]
    # the tiny stages sit at the same fractions of the run (to the step)
    for b, t in zip(big.stages, tiny.stages):
        assert t.tokens.train_steps / tiny.final_step == pytest.approx(b.tokens.train_steps / big.final_step, abs=0.005)
    assert 1e6 <= count_parameters(tiny.stages[0]) <= 5e6


@pytest.mark.parametrize(
    "name, expected",
    [("smollm2-135M", 134.5e6), ("smollm2-360M", 361.8e6), ("smollm2-1.7B", 1.711e9)],
)
def test_parameter_counts_match_released_models(name, expected):
    n = count_parameters(load_recipe(name).stages[0])
    assert abs(n - expected) / expected < 0.005, n


def test_yaml_matches_nanotron_key_set():
    """Our schema's fields are nanotron's: the shipped files only use keys nanotron's dataclasses define."""
    cfg = load_nanotron_yaml("pretraining/configs/smollm2-1.7B/stage3.yaml")
    raw = yaml.safe_load(open("pretraining/configs/smollm2-1.7B/stage3.yaml"))
    full = to_dict(cfg)

    def keys_subset(a, b, path=""):
        for k, v in a.items():
            assert k in b, f"{path}.{k}"
            if isinstance(v, dict) and isinstance(b[k], dict):
                keys_subset(v, b[k], f"{path}.{k}")

    keys_subset(raw, full)
    assert isinstance(cfg, NanotronConfig)


def test_unknown_key_names_file_and_field(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage2.yaml"
    edit_yaml(f, "  micro_batch_size: 8\n", "  micro_batch_size: 8\n  micro_batch_sizes: 4\n")
    with pytest.raises(ConfigError) as e:
        load_recipe("tiny")
    msg = e.value.render()
    assert "stage2.yaml" in msg and "tokens.micro_batch_sizes" in msg and "unknown key" in msg
    assert "did you mean `micro_batch_size`" in msg


def test_missing_min_decay_lr_is_rejected(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage1.yaml"
    edit_yaml(f, "    min_decay_lr: 0.0\n", "")
    with pytest.raises(ConfigError) as e:
        load_nanotron_yaml(f)
    msg = e.value.render()
    assert "stage1.yaml" in msg and "optimizer.learning_rate_scheduler.min_decay_lr" in msg
    assert "min_decay_lr: 0" in msg  # the fix


@pytest.mark.parametrize("field", ["lr_warmup_style", "lr_decay_starting_step", "lr_decay_steps"])
def test_other_wsd_fields_are_required(scratch_repo, field):
    f = scratch_repo / "pretraining/configs/tiny/stage1.yaml"
    text = f.read_text()
    line = next(l for l in text.splitlines(keepends=True) if l.strip().startswith(field + ":"))
    f.write_text(text.replace(line, ""))
    with pytest.raises(ConfigError, match=field):
        load_nanotron_yaml(f)


def test_decay_ending_before_the_last_step_is_rejected(scratch_repo):
    # the bug once shipped in an official config: the decay ends halfway through the last stage
    for k in range(1, 5):
        edit_yaml(scratch_repo / f"pretraining/configs/tiny/stage{k}.yaml", "lr_decay_steps: 40", "lr_decay_steps: 20")
    edit_yaml(scratch_repo / "pretraining/configs/tiny/long-context.yaml", "lr_decay_steps: 40", "lr_decay_steps: 20")
    with pytest.raises(ConfigError) as e:
        load_recipe("tiny")
    msg = e.value.render()
    assert "stage4.yaml" in msg and "lr_decay_steps" in msg and "ends early" in msg and "lr_decay_steps: 40" in msg


def test_decay_that_never_completes_is_rejected(scratch_repo):
    for f in (scratch_repo / "pretraining/configs/tiny").glob("*.yaml"):
        edit_yaml(f, "lr_decay_steps: 40", "lr_decay_steps: 80")
    with pytest.raises(ConfigError, match="never completes"):
        load_recipe("tiny")


def test_stage_files_must_share_the_schedule(scratch_repo):
    edit_yaml(scratch_repo / "pretraining/configs/tiny/stage3.yaml", "learning_rate: 3.0e-03", "learning_rate: 1.0e-03")
    with pytest.raises(ConfigError) as e:
        load_recipe("tiny")
    assert "stage3.yaml" in e.value.render() and "learning_rate" in e.value.render()


def test_stage_must_start_where_previous_ended(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage3.yaml"
    edit_yaml(f, "start_training_step: 292", "start_training_step: 300")
    with pytest.raises(ConfigError) as e:
        load_recipe("tiny")
    assert "stage3.yaml" in e.value.render() and "start_training_step: 292" in e.value.render()


def test_non_increasing_stage_starts_rejected(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage2.yaml"
    edit_yaml(f, "start_training_step: 219", "start_training_step: 1")
    with pytest.raises(ConfigError, match=r"data_stages\[1\].start_training_step"):
        load_nanotron_yaml_and_check(f)


def load_nanotron_yaml_and_check(f):
    from smolrecipe.config import check_config

    check_config(load_nanotron_yaml(f))


def test_weights_must_match_folders(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage1.yaml"
    edit_yaml(f, "      - 0.1\n", "")
    with pytest.raises(ConfigError, match=r"2 weights for 3 folders"):
        load_nanotron_yaml_and_check(f)


def test_heads_must_divide_by_kv_heads(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage1.yaml"
    edit_yaml(f, "num_key_value_heads: 2", "num_key_value_heads: 3")
    with pytest.raises(ConfigError, match="num_key_value_heads"):
        load_nanotron_yaml_and_check(f)


def test_tp_must_divide_heads(scratch_repo):
    f = scratch_repo / "pretraining/configs/smollm2-135M/stage1.yaml"
    edit_yaml(f, "  tp: 1\n", "  tp: 2\n")
    with pytest.raises(ConfigError, match="parallelism.tp"):
        load_nanotron_yaml_and_check(f)


def test_vocab_must_match_local_tokenizer(scratch_repo, tmp_path):
    tok = scratch_repo / "outputs/tokenizers/tiny"
    tok.mkdir(parents=True)
    vocab = {f"t{i}": i for i in range(4000)}
    import json

    (tok / "tokenizer.json").write_text(json.dumps({"model": {"vocab": vocab}, "added_tokens": []}))
    f = scratch_repo / "pretraining/configs/tiny/stage1.yaml"
    edit_yaml(f, "tokenizer_name_or_path: outputs/tokenizers/tiny", f"tokenizer_name_or_path: {tok}")
    with pytest.raises(ConfigError) as e:
        load_nanotron_yaml_and_check(f)
    assert "vocab_size=4096" in e.value.render() and "4000 tokens" in e.value.render()


def test_wrong_type_and_yaml_float_pitfall(scratch_repo):
    f = scratch_repo / "pretraining/configs/tiny/stage1.yaml"
    edit_yaml(f, "learning_rate: 3.0e-03", "learning_rate: 3e-3")  # YAML 1.1 reads this as a string
    with pytest.raises(ConfigError) as e:
        load_nanotron_yaml(f)
    assert "learning_rate" in e.value.render() and "3.0e-3" in e.value.render()
