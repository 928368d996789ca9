"""Publishing to the Hugging Face Hub: what a folder is, its card, and the upload (`make push`).

    artifacts.py   what a folder holds (model, local-engine checkpoint, run of checkpoints, data set, classifier)
                   and the facts its card needs, read from the artifacts themselves
    evals.py       lighteval results files -> rows with their protocol (formulation, normalisation, few-shot)
    cards.py       model / checkpoints / data set / classifier cards (huggingface_hub ModelCard, DatasetCard)
    templates.py   the Jinja layouts of those cards
    upload.py      token and permission checks, staging, one upload_folder per revision, resume and failure report
"""
