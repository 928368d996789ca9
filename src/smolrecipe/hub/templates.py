"""Jinja layouts of the cards (rendered by huggingface_hub's ModelCard/DatasetCard.from_template).

The layouts only place sections; cards.py computes every table and sentence from the artifacts.
`card_data` is the YAML front matter huggingface_hub writes from ModelCardData / DatasetCardData.
"""

MODEL = """---
{{ card_data }}
---

# {{ title }}

{{ summary }}

## How to use

```python
{{ usage }}
```
{% if usage_note %}
{{ usage_note }}
{% endif %}
## Model

{{ architecture }}
{% if revisions %}
## Intermediate checkpoints

{{ revisions }}
{% endif %}
## Training
{{ training }}
{% if post_training %}
## Post-training

{{ post_training }}
{% endif %}
## Evaluation

{{ evaluation }}

## Upstream versions

{{ versions }}

## Intended use and limitations

{{ limitations }}

## Citation

{{ citation }}
"""

CLASSIFIER = """---
{{ card_data }}
---

# {{ title }}

{{ summary }}

## How to use

```python
{{ usage }}
```

## Training data

{{ training_data }}

## Results on held-out annotations

{{ results }}

## Model

{{ architecture }}

## Upstream versions

{{ versions }}

## Intended use and limitations

{{ limitations }}

## Citation

{{ citation }}
"""

DATASET = """---
{{ card_data }}
---

# {{ title }}

{{ summary }}

## How to read it

{{ usage }}

## Sources

{{ sources }}

## Pipeline

{{ pipeline }}

## Decontamination

{{ decontamination }}

## Upstream versions

{{ versions }}

## Limitations

{{ limitations }}

## Citation

{{ citation }}
"""

CITATION = """```bibtex
@misc{allal2025smollm2,
  title         = {SmolLM2: When Smol Goes Big -- Data-Centric Training of a Small Language Model},
  author        = {Ben Allal, Loubna and Lozhkov, Anton and Bakouch, Elie and others},
  year          = {2025},
  eprint        = {2502.02737},
  archivePrefix = {arXiv},
  primaryClass  = {cs.CL}
}

@inproceedings{hagele2024scaling,
  title         = {Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations},
  author        = {H{\\"a}gele, Alexander and Bakouch, Elie and Kosson, Atli and others},
  booktitle     = {Advances in Neural Information Processing Systems},
  year          = {2024},
  eprint        = {2405.18392},
  archivePrefix = {arXiv}
}
```"""
