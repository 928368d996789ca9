"""The Makefile's interface: every documented target exists and unknown steps fail loudly."""
import subprocess

TARGETS = ["setup", "setup-gpu", "test", "demo", "tokenizer", "data", "plan", "pretrain", "long-context", "cooldown",
           "average", "convert", "sft", "dpo", "eval", "eval-sweep", "push", "scaling", "report"]


def test_make_help_lists_every_target():
    out = subprocess.run(["make", "help"], capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0] for line in out.splitlines()[1:] if line.strip()}
    missing = set(TARGETS) - listed
    assert not missing, missing


def test_pretrain_target_passes_the_variables():
    # make -n prints the command without running it: the interface the recipes document
    out = subprocess.run(["make", "-n", "pretrain", "RECIPE=smollm2-1.7B", "STAGE=3", "ENGINE=nanotron", "DRY_RUN=1"],
                         capture_output=True, text=True, check=True).stdout
    assert "pretrain --recipe smollm2-1.7B --stage 3 --engine nanotron --dry-run" in out
    out = subprocess.run(["make", "-n", "cooldown", "FROM=outputs/checkpoints/tiny/200", "STEPS=50"],
                         capture_output=True, text=True, check=True).stdout
    assert 'cooldown --from "outputs/checkpoints/tiny/200" --shape 1-sqrt --steps 50' in out
