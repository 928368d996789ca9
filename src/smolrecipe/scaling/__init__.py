"""The schedules-and-scaling recipe (recipes/schedules): cooldowns vs cosine, SWA/EMA, scaling laws from reusable runs."""
