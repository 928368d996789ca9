"""The Makefile's interface: every documented target exists and unknown steps fail loudly."""
import subprocess

TARGETS = ["setup", "setup-gpu", "test", "demo", "tokenizer", "data", "plan", "pretrain", "long-context", "cooldown",
           "average", "convert", "sft", "dpo", "chat", "eval", "eval-sweep", "push", "scaling", "report"]


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
    assert 'cooldown --from "outputs/checkpoints/tiny/200" --shape 1-sqrt --steps 50 --engine auto' in out


def test_push_target_passes_the_variables():
    out = subprocess.run(["make", "-n", "push", "MODEL=outputs/checkpoints/tiny-long-context/400", "REPO=me/tiny", "DRY_RUN=1"],
                         capture_output=True, text=True, check=True).stdout
    assert 'push --model "outputs/checkpoints/tiny-long-context/400" --repo "me/tiny" --dry-run' in out
    out = subprocess.run(["make", "-n", "push", "RUN=outputs/checkpoints/tiny", "REPO=me/tiny-ckpts", "PRIVATE=1", "STEPS=200,400"],
                         capture_output=True, text=True, check=True).stdout
    assert 'push --run "outputs/checkpoints/tiny" --repo "me/tiny-ckpts"' in out and '--private --steps "200,400"' in out
    out = subprocess.run(["make", "-n", "push", "DATA=outputs/data/tiny", "REPO=me/tiny-data"], capture_output=True, text=True, check=True).stdout
    assert 'push --data "outputs/data/tiny" --repo "me/tiny-data"' in out


def test_post_training_targets_pass_the_variables():
    out = subprocess.run(["make", "-n", "sft", "RECIPE=smollm2-1.7B", "ACCELERATE=zero3", "CONFIG=sft-lora", "DRY_RUN=1",
                          "ARGS=--max_steps 5"], capture_output=True, text=True, check=True).stdout
    assert "sft --recipe smollm2-1.7B --config sft-lora --accelerate zero3 --dry-run --max_steps 5" in " ".join(out.split())
    out = subprocess.run(["make", "-n", "sft", "RECIPE=smollm2-1.7B", "SYNTHETIC=outputs/data/smoltalk"],
                         capture_output=True, text=True, check=True).stdout
    assert 'sft --recipe smollm2-1.7B --synthetic "outputs/data/smoltalk"' in " ".join(out.split())
    out = subprocess.run(["make", "-n", "dpo", "RECIPE=tiny", "MODEL=outputs/post_training/tiny/sft"],
                         capture_output=True, text=True, check=True).stdout
    assert 'dpo --recipe tiny   --model "outputs/post_training/tiny/sft"' in out
    out = subprocess.run(["make", "-n", "chat", "MODEL=outputs/post_training/tiny/dpo", "PROMPT=What is 7 + 5?",
                          "TEMPERATURE=0.7", "TOP_P=0.9", "MAX_NEW_TOKENS=20", "DRY_RUN=1"],
                         capture_output=True, text=True, check=True).stdout
    assert ('chat --model "outputs/post_training/tiny/dpo" --prompt "What is 7 + 5?" --temperature 0.7' in out
            and "--top-p 0.9" in out and "--max-new-tokens 20" in out and "--dry-run" in out)
