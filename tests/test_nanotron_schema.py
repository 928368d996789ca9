"""Our config schema stays in step with nanotron's at the pinned commit.

tests/fixtures/nanotron_schema.json records nanotron's dataclass fields (scripts/extract_nanotron_schema.py
writes it from a nanotron checkout). If a key we accept is not nanotron's, nanotron's strict loader would
reject our YAML; if nanotron requires a field we default, our files could be missing it.
"""
import dataclasses
import json
from pathlib import Path

import pytest

from smolrecipe.config import schema
from smolrecipe.versions import NANOTRON_COMMIT

RECORD = json.loads((Path(__file__).parent / "fixtures" / "nanotron_schema.json").read_text())
OURS = {
    "Config": schema.NanotronConfig, "GeneralArgs": schema.GeneralArgs, "ParallelismArgs": schema.ParallelismArgs,
    "ModelArgs": schema.ModelArgs, "LlamaConfig": schema.LlamaConfig, "RandomInit": schema.RandomInit,
    "TokenizerArgs": schema.TokenizerArgs, "CheckpointsArgs": schema.CheckpointsArgs, "LoggingArgs": schema.LoggingArgs,
    "MetricsLoggingArgs": schema.MetricsLoggingArgs, "TokensArgs": schema.TokensArgs,
    "LRSchedulerArgs": schema.LRSchedulerArgs, "AdamWOptimizerArgs": schema.AdamWOptimizerArgs,
    "OptimizerArgs": schema.OptimizerArgs, "NanosetDatasetsArgs": schema.NanosetDatasetsArgs, "DataArgs": schema.DataArgs,
    "DatasetStageArgs": schema.DatasetStageArgs, "ProfilerArgs": schema.ProfilerArgs,
}
# nanotron fields we deliberately do not accept (MoE only; absent again on nanotron main)
NOT_MODELLED = {"ParallelismArgs": {"moe_layer_recompute"}}


def test_record_is_for_the_pinned_commit():
    assert RECORD["nanotron_commit"].startswith(NANOTRON_COMMIT)


@pytest.mark.parametrize("name", sorted(OURS))
def test_fields_match_nanotron(name):
    theirs = RECORD["classes"][name]
    ours = [f.name for f in dataclasses.fields(OURS[name])]
    assert set(ours) <= set(theirs["fields"]), set(ours) - set(theirs["fields"])
    assert set(theirs["fields"]) - set(ours) <= NOT_MODELLED.get(name, set())
    ours_required = {
        f.name for f in dataclasses.fields(OURS[name])
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING or f.default is schema.REQUIRED
    }
    assert set(theirs["required"]) <= ours_required
