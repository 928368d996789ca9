# SmolLM2 recipe: a thin dispatcher over `python -m smolrecipe`. `make help` lists every target.
# Variables: RECIPE (tiny | smollm2-135M | smollm2-360M | smollm2-1.7B), STAGE, ENGINE (auto|local|nanotron),
# DRY_RUN=1 (every step: check its input and print what it would do, change nothing), FROM, FRACTION, SHAPE, STEPS, MODEL, SUITE, TOKENIZER, REPO (push: RUN, DATA, PRIVATE=1, EVAL;
# eval-sweep: RUN; sft/dpo: CONFIG, ACCELERATE, ARGS; chat: PROMPT, TEMPERATURE, TOP_P, MAX_NEW_TOKENS).
# Outputs go to outputs/ (SMOLRECIPE_OUTPUTS).
# Full-size data on Slurm: SLURM=1 (submit; otherwise `make data` only prints the commands), PARTITION, TASKS, LOGS,
# SLURM_VENV.

RECIPE   ?= tiny
STAGE    ?= 1
ENGINE   ?= auto
FRACTION ?= 0.2
SHAPE    ?= 1-sqrt
SUITE    ?= tiny
VENV     ?= .venv
PYTHON   := $(VENV)/bin/python
SMOL     := PYTHONPATH=src $(PYTHON) -m smolrecipe
DRY      := $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run,)
POST     := $(if $(CONFIG),--config $(CONFIG),) $(if $(ACCELERATE),--accelerate $(ACCELERATE),) $(if $(MODEL),--model "$(MODEL)",)
export HF_HUB_DISABLE_TELEMETRY := 1

.DEFAULT_GOAL := help
.PHONY: help setup setup-gpu lock test demo versions tokenizer check data plan pretrain long-context cooldown \
        average convert sft dpo chat eval eval-sweep push scaling report bench clean

help: ## list the targets
	@echo "usage: make <target> [RECIPE=tiny] [VAR=value ...]"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

setup: ## create/update .venv: torch CPU first, then the pinned stack (idempotent)
	@bash scripts/setup_env.sh

setup-gpu: ## create .venv-gpu with nanotron + datatrove at pinned commits and flash-attn (GPU nodes)
	@bash scripts/setup_gpu_env.sh

lock: setup ## rewrite requirements/constraints.txt from the working .venv
	@{ head -2 requirements/constraints.txt; $(PYTHON) -m pip freeze --all --exclude-editable | grep -v -e "^smolrecipe" -e "^pip=="; } > requirements/constraints.txt.tmp && mv requirements/constraints.txt.tmp requirements/constraints.txt

test: setup ## run the test suite offline (under 15 minutes on 2 cores)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONPATH=src $(PYTHON) -m pytest -q tests

demo: setup ## run the tiny recipe end to end, offline, one line per step (REDO=1 starts over)
	@bash scripts/demo.sh $(if $(filter 1 true yes,$(REDO)),--redo,) $(DRY)

versions: setup ## print pinned and installed upstream versions
	@$(SMOL) versions $(DRY)

tokenizer: setup ## train the recipe's tokenizer locally (tiny only; full recipes use cosmo2)
	@$(SMOL) tokenizer --recipe $(RECIPE) $(DRY)

check: setup ## validate the recipe's nanotron YAML files and global schedule (RECIPE=all for every recipe)
	@$(SMOL) check $(if $(filter all,$(RECIPE)),--all,--recipe $(RECIPE)) $(DRY)

plan: setup ## print stages, tokens, mixture, LR per stage and plot the schedule
	@$(SMOL) plan --recipe $(RECIPE) $(DRY)

data: setup ## build the tokenized folders the recipe's configs point to (datatrove; full size: prints, SLURM=1 submits)
	@$(SMOL) data --recipe $(RECIPE) $(DRY) $(if $(filter 1 true yes,$(SLURM)),--submit,) $(if $(PARTITION),--partition $(PARTITION),) \
	  $(if $(TASKS),--tasks $(TASKS),) $(if $(LOGS),--logs $(LOGS),) $(if $(SLURM_VENV),--venv $(SLURM_VENV),)

pretrain: setup ## train stage STAGE of RECIPE with ENGINE=auto|local|nanotron (DRY_RUN=1 prints the command)
	@$(SMOL) pretrain --recipe $(RECIPE) --stage $(STAGE) --engine $(ENGINE) $(DRY)

long-context: setup ## extend the context from a stage-4 checkpoint (long-context.yaml)
	@$(SMOL) long-context --recipe $(RECIPE) --engine $(ENGINE) $(DRY)

cooldown: setup ## branch a cooldown from checkpoint FROM (FRACTION=0.2 or STEPS=, SHAPE=1-sqrt|linear|cosine)
	@$(SMOL) cooldown --from "$(FROM)" --shape $(SHAPE) $(if $(STEPS),--steps $(STEPS),--fraction $(FRACTION)) --engine $(ENGINE) $(DRY)

average: setup ## average checkpoints (FROM="dir1 dir2 ..." or a run folder) into a transformers folder
	@$(SMOL) average $(FROM) $(DRY)

convert: setup ## convert a nanotron checkpoint FROM to a transformers folder (GPU env; DRY_RUN=1 prints the command)
	@$(SMOL) convert --from "$(FROM)" $(DRY)

sft: setup ## SFT with TRL from post_training/<recipe>/sft.yaml (CONFIG=sft-lora, ACCELERATE=cpu|ddp|zero3|fsdp, MODEL=, SYNTHETIC=dir, ARGS=)
	@$(SMOL) sft --recipe $(RECIPE) $(POST) $(if $(SYNTHETIC),--synthetic "$(SYNTHETIC)",) $(DRY) $(ARGS)

dpo: setup ## DPO with TRL from the SFT output (post_training/<recipe>/dpo.yaml; same variables as sft)
	@$(SMOL) dpo --recipe $(RECIPE) $(POST) $(DRY) $(ARGS)

chat: setup ## talk to MODEL with its chat template, streamed (PROMPT= one answer; TEMPERATURE, TOP_P, MAX_NEW_TOKENS)
	@$(SMOL) chat --model "$(MODEL)" $(if $(PROMPT),--prompt "$(PROMPT)",) $(if $(TEMPERATURE),--temperature $(TEMPERATURE),) \
	  $(if $(TOP_P),--top-p $(TOP_P),) $(if $(MAX_NEW_TOKENS),--max-new-tokens $(MAX_NEW_TOKENS),) $(DRY)

eval: setup ## evaluate MODEL with lighteval on SUITE (base | instruct | tiny); TOKENIZER= if MODEL has none
	@$(SMOL) eval --model "$(MODEL)" --suite $(SUITE) $(if $(TOKENIZER),--tokenizer "$(TOKENIZER)",) $(DRY)

eval-sweep: setup ## evaluate every checkpoint of RUN (a checkpoints folder) on SUITE; plot against tokens seen
	@$(SMOL) eval-sweep --run "$(RUN)" --suite $(SUITE) $(if $(TOKENIZER),--tokenizer "$(TOKENIZER)",) $(DRY)

push: setup ## upload MODEL (or RUN=<checkpoints> as branches, DATA=<data set>) to REPO with a card (DRY_RUN=1: show, send nothing)
	@$(SMOL) push $(if $(RUN),--run "$(RUN)",$(if $(DATA),--data "$(DATA)",--model "$(MODEL)")) --repo "$(REPO)" $(DRY) \
		$(if $(filter 1 true yes,$(PRIVATE)),--private,) $(if $(STEPS),--steps "$(STEPS)",) $(if $(EVAL),--eval "$(EVAL)",)

scaling: setup ## the schedules recipe: cooldowns vs cosine, SWA/EMA, scaling laws from reusable runs (STEPS=600, DATA=dir)
	@$(SMOL) scaling $(if $(STEPS),--steps $(STEPS),) $(if $(DATA),--data $(DATA),) $(DRY)

report: setup ## collect plots and tables of the recipe's runs into outputs/report/<recipe>.md
	@$(SMOL) report --recipe $(RECIPE) $(DRY)

bench: setup ## run the benchmarks (ratios against baselines measured in the same run)
	@PYTHONPATH=src $(PYTHON) benchmarks/run.py

clean: ## remove run outputs (outputs/); keeps the environment
	rm -rf outputs
