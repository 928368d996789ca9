"""make report: the card's numbers come from the runs' own records, and the HTML page stands alone."""
from __future__ import annotations

import base64
import io
import re

import pytest


def fake_run(name: str, first: int, last: int, tokens_per_step: int, step_time: float, loss0: float):
    """What the engine's MetricsWriter writes for a launch (metrics.jsonl and launches.jsonl)."""
    from smolrecipe.engine.metrics import MetricsWriter
    from smolrecipe.paths import outputs_dir

    m = MetricsWriter(outputs_dir() / "runs" / name, tensorboard=False)
    m.append_json("launches.jsonl", {"run": name, "precision": "fp32"})
    for k, step in enumerate(range(first, last + 1)):
        m.log(step, {"loss": loss0 - 0.01 * k, "lr": 1e-3, "step_time": step_time, "tokens_per_s": tokens_per_step / step_time})
    m.close()


def test_the_report_card_counts_what_the_runs_recorded_and_its_html_stands_alone(scratch_repo, capsys):
    import matplotlib.image

    from smolrecipe.cli import main

    fake_run("tiny-stage1", 1, 218, 2048, 0.25, 8.0)  # 218 steps x 2,048 tokens = 446,464 tokens in 54.5 s
    fake_run("tiny-stage2", 219, 291, 4096, 0.5, 5.0)  # another batch size: the card must not assume the config's
    assert main(["report", "--recipe", "tiny"]) == 0
    out = scratch_repo / "outputs" / "report" / "tiny"
    md = (out / "REPORT.md").read_text()
    assert "| tiny-stage1 | 1..218 | 446.46k | 54 s | 8,192 |" in md  # 446,464 tokens, 54.5 s, 8,192 tokens/s
    assert "| tiny-stage2 | 219..291 | 299.01k | 36 s | 8,192 |" in md  # 73 steps x 4,096
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (out / image).is_file(), image
    html = (out / "report.html").read_text()
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) == 2 and all(src.startswith("data:image/png;base64,") for src in images)
    for src in images:  # every plot is inside the page and decodes as a real image
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100 and pixels.std() > 0.02
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing loaded from elsewhere


def test_nothing_to_report_is_a_clear_error(scratch_repo, capsys):
    from smolrecipe.cli import main

    assert main(["report", "--recipe", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "nothing to report" in err and "fix:" in err
