"""Data pipelines of the SmolLM2 recipe, built on datatrove: the reusable parts.

The scripts in data/ read like recipes and import these small modules:
    executor     local or Slurm executor from the same command-line flags; stats summaries
    readers      a bad-input-tolerant jsonl reader (counts and skips) and the Hub sources by name
    chat         conversations (TRL's messages format) rendered to text with the chat template
    stack_edu    Stack-Edu's files fetched by blob id from Software Heritage's S3 bucket (a datatrove step)
    local_corpus the tiny recipe's offline corpus (standard library code and prose, generated math)
    mathgen      generated worked arithmetic and word problems (the tiny "math" source)
    filters      the offline heuristic filters (Gopher, C4 quality, FineWeb quality) with their settings
    annotate     LLM-judge prompts and rollout (run by the inference runner) and the offline heuristic annotator
    inference    datatrove's InferenceRunner from command-line flags: vLLM / SGLang / an endpoint / dummy, resumable
    smoltalk     SmolTalk-style synthetic chats (rewrite, summarize, constraints) as inference rollouts
    classifier   educational-quality classifier: train (encoder + regression head), apply as a filter
    decont       n-gram decontamination against benchmarks (lighteval tasks and local jsonl files)
    dedup        MinHash deduplication (datatrove's four stages)
    tokenize     datatrove DocumentTokenizer into one folder per source, token counts read back
    mixture      tokens available per source and the epochs a recipe draws from them (`make plan`)
    smollm2      the SmolLM2 recipes' tokenized folders by name (Hub readers, cluster runs) and the cluster plan
    tiny         `make data RECIPE=tiny`: every step above, end to end, offline
"""
