"""`plan` prints the stage arithmetic and writes the schedule plot; the CLI reports errors without traces."""
import subprocess
import sys

import pytest

from smolrecipe.cli import main
from smolrecipe.config import load_recipe
from smolrecipe.plan import plot_schedule, stage_rows


def test_plan_rows_for_smollm2_17b():
    rows = stage_rows(load_recipe("smollm2-1.7B"))
    names = [r["name"] for r in rows]
    assert names == ["stage1", "stage2", "stage3", "stage4", "long-context"]
    pre = [r for r in rows if r["name"] != "long-context"]
    assert pre[0]["first"] == 1 and pre[-1]["last"] == 5_240_000
    assert all(a["last"] + 1 == b["first"] for a, b in zip(pre, pre[1:]))
    total = sum(r["tokens"] for r in pre)
    assert 10.9e12 < total < 11.1e12  # ~11T tokens
    assert pre[0]["tokens"] == pytest.approx(6e12, rel=1e-6)
    assert pre[-1]["lr_first"] == pytest.approx(5e-4) and pre[-1]["lr_last"] < 1e-9
    assert rows[-1]["sequence_length"] == 8192 and rows[-1]["tokens"] == pytest.approx(75.5e9, rel=0.01)
    mix4 = {f.rsplit("/", 1)[-1]: w for f, w, _ in pre[3]["mixture"]}
    assert mix4["stack-edu"] == pytest.approx(0.24) and mix4["cosmopedia-v2"] == pytest.approx(0.04)


def test_plan_command_prints_and_plots(tmp_path, capsys):
    out = tmp_path / "lr.png"
    assert main(["plan", "--recipe", "smollm2-1.7B", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "stage4 [stage4-decay]  iterations 4,716,001..5,240,000" in text
    assert "10.99T tokens" in text
    assert out.stat().st_size > 10_000 and out.read_bytes()[:4] == b"\x89PNG"


def test_schedule_plot_draws_the_tiny_schedule_and_its_stages(tmp_path):
    """By hand from the tiny configs: peak 3e-3, 20 warmup steps, linear decay from 360 over 40 steps to 0;
    iteration i trains with f(i - 1); stages 1..218, 219..291, 292..360, 361..400; long context from step 380."""
    import matplotlib.image

    from smolrecipe.plan import schedule_curve

    curve = schedule_curve(load_recipe("tiny"))
    lr = dict(zip(curve["iterations"], curve["lr"]))
    assert lr[1] == 0.0 and lr[21] == pytest.approx(3e-3) and lr[361] == pytest.approx(3e-3)
    assert lr[400] == pytest.approx(3e-3 * 1 / 40)  # f(399) = peak * (40 - 39) / 40
    assert [(n, a, b) for n, a, b, _ in curve["stages"]] == [("stage1", 1, 218), ("stage2", 219, 291),
                                                              ("stage3", 292, 360), ("stage4", 361, 400)]
    assert curve["branch"] == 380
    out = plot_schedule(load_recipe("tiny"), tmp_path / "tiny.png")
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (480, 1200) and image.std() > 0.05  # the 10 x 4 in figure at 120 dpi, not blank


def test_unknown_recipe_is_a_clear_error(capsys):
    assert main(["plan", "--recipe", "smollm2-7B"]) == 2
    err = capsys.readouterr().err
    assert "RECIPE" in err and "smollm2-1.7B" in err and "Traceback" not in err


def test_bad_config_through_the_cli_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(open("pretraining/configs/tiny/stage1.yaml").read().replace("  project:", "  projekt:"))
    r = subprocess.run([sys.executable, "-m", "smolrecipe", "check", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "bad.yaml: general.projekt: unknown key" in r.stderr and "Traceback" not in r.stderr


def test_steps_not_built_yet_fail_loudly(capsys, monkeypatch):
    from smolrecipe import cli

    monkeypatch.setitem(cli.COMMANDS, "later", ("issue:someday", "a step that has not landed"))
    assert main(["later"]) == 2
    assert "not built yet" in capsys.readouterr().err
