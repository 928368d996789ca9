"""nanotron configs: schema, strict loader, checks, and recipes (ordered stage files)."""
from smolrecipe.config.loader import dump_nanotron_yaml, load_nanotron_yaml, loads_nanotron_yaml, to_dict
from smolrecipe.config.recipe import RECIPES, Recipe, load_recipe
from smolrecipe.config.schema import NanotronConfig
from smolrecipe.config.validate import check_config

__all__ = [
    "RECIPES", "NanotronConfig", "Recipe", "check_config", "dump_nanotron_yaml",
    "load_nanotron_yaml", "loads_nanotron_yaml", "load_recipe", "to_dict",
]
