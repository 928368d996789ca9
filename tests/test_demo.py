"""`make demo`'s closing summary: the tiny suite's table for every model the demo evaluated."""
from __future__ import annotations

import json


def test_the_summary_tables_the_numbers_make_eval_wrote_and_skips_models_without_results(tmp_path, monkeypatch):
    from smolrecipe.commands import demo

    monkeypatch.setenv("SMOLRECIPE_OUTPUTS", str(tmp_path))
    results = {"tiny_chat_mc|0": {"acc_norm": 0.25}, "tiny_chat_gen|0": {"em": 0.0375},
               "tiny_math_bpb|0": {"bits_per_byte": 1.0836}}
    # where make eval writes: outputs/eval/<model label>/<suite>/results.json (sft's label is its folder name)
    out = tmp_path / "eval" / "sft" / "tiny"
    out.mkdir(parents=True)
    (out / "results.json").write_text(json.dumps({"results": results}))
    plan = demo.steps()
    for s in plan:
        s.status = "done"
    lines = demo.eval_table(plan)
    assert len(lines) == 3  # title, header, the one model with results (base and DPO were not evaluated here)
    row = lines[2].split()
    assert row == ["outputs/post_training/tiny/sft", "25.0%", "3.8%", "1.084"]
    next(s for s in plan if s.key == "eval-sft").status = "failed"
    assert demo.eval_table(plan) == []
