"""Post-training with TRL: the recipe YAML of post_training/<recipe>/, its checks, its data and its launch.

    recipe.py   find, parse (TRL's own parser, unknown keys fatal) and check a recipe before anything runs
    data.py     the tiny recipe's generated chat data, and decontamination of every training set
    launch.py   the command (`accelerate launch ... trl.scripts.sft|dpo`), resume, the published output and its record
    chat.py     talk to a model folder with its chat template, streaming (make chat)
"""
