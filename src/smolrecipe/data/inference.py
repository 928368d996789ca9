"""LLM calls as datatrove steps: datatrove's InferenceRunner (0.10.1), with the server chosen on the command line.

    parser = argparse.ArgumentParser(); inference.add_inference_args(parser); executor.add_executor_args(parser)
    stats = inference.run([reader], rollout, args, "annotate", output=out, reads=[...], config={...},
                          shared_context={...}, adapter=row)

Servers (--server):
    vllm, sglang  started by datatrove on the node (`vllm serve` / `sglang` with --tp/--dp GPUs), stopped at the end
    endpoint      an existing OpenAI-compatible API (vLLM or TGI elsewhere, Inference Endpoints, a provider):
                  --endpoint is the API's base URL (ending in /v1); the key is read from $OPENAI_API_KEY
                  (--api-key-env names another variable) by the process that makes the calls
    dummy         datatrove's canned-answer server: a dry run of the whole pipeline without a model

How a run resumes (datatrove/pipeline/inference/run_inference.py and checkpointing.py):
  - each finished document is appended to <checkpoints>/<rank>/chunk_<k>.jsonl, `records_per_chunk` documents
    per chunk, and written to the output file <rank>_chunk_<k>.jsonl; a chunk's output file is closed as soon
    as all its documents are in, so the output grows as the run goes;
  - a rerun skips the documents of the completed chunks (last_chunk/<rank>.txt), copies the finished documents
    of the unfinished chunks from the checkpoint files into fresh output files, and skips those too;
  - every reply is kept in a request cache (<checkpoints>/<rank>/replay.sqlite3, keyed by document, rollout and
    payload) until its chunk completes, so a document cut off between several requests replays the finished ones;
  - a task that finished is skipped altogether (datatrove's completion markers in the keyed logging dir).
The checkpoints live in the run's logging dir (<logging-dir>/<name>-<run key>/inference-checkpoints) unless
--checkpoints-dir says otherwise: a run with another input, model or prompt never resumes this one's.
A request the server rejects as malformed (HTTP 400, e.g. a prompt longer than the context) skips its document
and is counted (skipped_bad_requests); any other error fails the task after the runner's retries, with the
finished work kept for the rerun.
"""
from __future__ import annotations

import argparse
import importlib.util
import os

from datatrove.pipeline.inference.run_inference import InferenceConfig, InferenceRunner
from datatrove.pipeline.inference.servers.base import InferenceServer
from datatrove.pipeline.inference.servers.endpoint_server import EndpointServer
from datatrove.pipeline.inference.types import InferenceError, ServerError

from smolrecipe.data import executor
from smolrecipe.errors import RecipeError

SERVERS = ("vllm", "sglang", "endpoint", "dummy")
# packages datatrove's runner imports at run time (datatrove[inference] without vLLM/SGLang)
RUNNER_PACKAGES = {"aiofiles": "25.1.0", "aiosqlite": "0.22.1", "httpx": None, "xxhash": None}
# flags that say where and how fast the calls run, not what they compute: left out of the run key
EXECUTION_ONLY = ("endpoint", "api_key_env", "tp", "dp", "max_concurrent", "request_timeout", "checkpoints_dir")
OUTPUT_FILENAME = "${rank}_chunk_${chunk_index}.jsonl"


class OpenAIEndpoint(EndpointServer):
    """datatrove's endpoint server held to the OpenAI client's conventions for every URL.

    In 0.10.1 the readiness probe asks {url}/v1/models without the key (so a base URL ending in /v1 is never
    ready) and localhost URLs get a raw POST to {url}/v1/chat/completions without the key. Here the URL is the
    API base, the probe is the client's GET {base}/models with the key, and every request goes through the
    openai client (httpx, which drops the Authorization header on a redirect to another host). The key is read
    from the environment where the calls are made, so it is never saved with the pipeline (executor.json,
    the Slurm pickle)."""

    def __init__(self, config: InferenceConfig, rank: int, api_key_env: str = "OPENAI_API_KEY"):
        from openai import AsyncOpenAI

        InferenceServer.__init__(self, config, rank)
        self.endpoint_url = config.endpoint_url.rstrip("/")
        self.client = AsyncOpenAI(api_key=os.environ.get(api_key_env) or "EMPTY", base_url=self.endpoint_url,
                                  timeout=config.request_timeout)

    async def is_ready(self) -> bool:
        import openai

        try:
            await self.client.with_options(max_retries=0, timeout=10).models.list()
            return True
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise ServerError(f"{self.endpoint_url} refused the API key: {e}") from e
        except Exception:
            return False

    async def _make_request(self, payload: dict) -> dict:
        import openai

        try:
            return await super()._make_request(payload)
        except InferenceError as e:
            # the runner recognises a malformed request by this name (skip_bad_requests); openai's message lacks it
            if isinstance(e.__cause__, openai.BadRequestError):
                raise InferenceError(None, f"BadRequestError: {e.error}", payload=e.payload) from e.__cause__
            raise


class RecipeInferenceRunner(InferenceRunner):
    """datatrove's InferenceRunner with OpenAIEndpoint for --server endpoint; everything else is the runner's own."""

    def __init__(self, *args, api_key_env: str = "OPENAI_API_KEY", **kwargs):
        super().__init__(*args, **kwargs)
        self.api_key_env = api_key_env

    def _init_server(self, rank: int) -> InferenceServer:
        if self.config.server_type == "endpoint":
            return OpenAIEndpoint(self.config, rank, self.api_key_env)
        return super()._init_server(rank)


def add_inference_args(parser: argparse.ArgumentParser, *, max_tokens: int = 512, temperature: float = 0.0,
                       records_per_chunk: int = 1000) -> None:
    g = parser.add_argument_group("LLM server (datatrove's inference runner)")
    g.add_argument("--server", choices=SERVERS, default=None,
                   help="vllm / sglang (started on this node), endpoint (an existing OpenAI-compatible API), dummy")
    g.add_argument("--model", default=None, help="model name or path (served by vllm/sglang, or at the endpoint)")
    g.add_argument("--endpoint", default=None, help="OpenAI-compatible API base URL, e.g. http://host:8000/v1")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable with the endpoint's key")
    g.add_argument("--tp", type=int, default=1, help="tensor-parallel GPUs per vllm/sglang server [%(default)s]")
    g.add_argument("--dp", type=int, default=1, help="data-parallel replicas per vllm/sglang server [%(default)s]")
    g.add_argument("--model-max-context", type=int, default=8192, help="context length the server allows [%(default)s]")
    g.add_argument("--max-tokens", type=int, default=max_tokens, help="tokens generated per request [%(default)s]")
    g.add_argument("--temperature", type=float, default=temperature, help="[%(default)s]")
    g.add_argument("--max-concurrent", type=int, default=64, help="requests in flight per task [%(default)s]")
    g.add_argument("--request-timeout", type=float, default=600, help="seconds per request [%(default)s]")
    g.add_argument("--records-per-chunk", type=int, default=records_per_chunk,
                   help="documents per checkpoint chunk and output file [%(default)s]")
    g.add_argument("--checkpoints-dir", default=None,
                   help="local (or shared) folder for the runner's checkpoints [inside the run's logging dir]")


def missing_runner_packages() -> list[str]:
    return [name for name in RUNNER_PACKAGES if importlib.util.find_spec(name) is None]


def check_inference_args(args: argparse.Namespace) -> None:
    """Every mistake in the server flags, before any work starts (the endpoint is asked for its models)."""
    if not args.server:
        raise RecipeError("no LLM server chosen", field="--server",
                          fix="--server endpoint --endpoint http://host:8000/v1, --server vllm (GPU node), or --server dummy")
    if not args.model:
        raise RecipeError("no model named", field="--model", fix="e.g. --model meta-llama/Llama-3.1-70B-Instruct")
    for flag in ("tp", "dp", "max_tokens", "max_concurrent", "records_per_chunk", "model_max_context"):
        if getattr(args, flag) < 1:
            raise RecipeError(f"--{flag.replace('_', '-')} {getattr(args, flag)} is not a positive number",
                              field=f"--{flag.replace('_', '-')}", fix="pass a number of at least 1")
    if args.server in ("vllm", "sglang") and not getattr(args, "slurm", False) and importlib.util.find_spec(args.server) is None:
        raise RecipeError(f"--server {args.server} starts {args.server} on this machine, and it is not installed",
                          field="--server", fix=f"run on a GPU node with {args.server} installed (pip install {args.server}), "
                                                "add --slurm to run on the cluster's GPU nodes, or use --server endpoint")
    if args.server == "endpoint":
        check_endpoint(args)
    missing = missing_runner_packages()
    if missing:
        pins = " ".join(f"{m}=={v}" if RUNNER_PACKAGES[m] else m for m in missing)
        raise RecipeError(f"datatrove's inference runner needs {', '.join(missing)}, not installed here",
                          field="--server", fix=f"pip install {pins}")


def check_endpoint(args: argparse.Namespace) -> None:
    """The endpoint answers GET {base}/models with the key; the model is among those it serves (warning if not)."""
    from urllib.parse import urlparse

    import openai

    url = args.endpoint or ""
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname:
        raise RecipeError(f"--endpoint {url or '(none)'} is not an http(s) URL", field="--endpoint",
                          fix="the API's base URL, e.g. --endpoint http://localhost:8000/v1")
    client = openai.OpenAI(api_key=os.environ.get(args.api_key_env) or "EMPTY", base_url=url.rstrip("/"),
                           max_retries=0, timeout=15)
    try:
        served = [m.id for m in client.models.list()]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        raise RecipeError(f"{url} refused the key (HTTP {e.status_code})", field="--api-key-env",
                          fix=f"export {args.api_key_env}=<your key>, or name the variable with --api-key-env") from None
    except openai.NotFoundError:
        raise RecipeError(f"{url}/models does not exist: the URL is not an OpenAI-compatible API base",
                          field="--endpoint", fix="pass the base URL that ends in /v1, e.g. http://host:8000/v1") from None
    except openai.APIError as e:
        raise RecipeError(f"cannot reach {url}: {e}", field="--endpoint",
                          fix="start the server first, or check the URL (the API base, ending in /v1)") from None
    if served and args.model not in served:
        print(f"warning: {url} lists {', '.join(served[:5])}{' ...' if len(served) > 5 else ''}; "
              f"not {args.model!r} (requests will name it anyway)")


def inference_config(args: argparse.Namespace) -> InferenceConfig:
    ready = {"server_ready_max_attempts": 12, "server_ready_delay_sec": 5.0} if args.server == "endpoint" else {}
    return InferenceConfig(
        server_type=args.server, model_name_or_path=args.model, endpoint_url=args.endpoint,
        model_max_context=args.model_max_context, tp=args.tp, dp=args.dp,
        default_generation_params={"max_tokens": args.max_tokens, "temperature": args.temperature},
        max_concurrent_generations=args.max_concurrent, request_timeout=args.request_timeout, **ready)


def key_config(args: argparse.Namespace) -> dict:
    """The run key's config part: what the calls compute (model, server kind, generation, chunking)."""
    return executor.script_config(args, drop=EXECUTION_ONLY)


def checkpoints_folder(args: argparse.Namespace, logging_name: str) -> str:
    if args.checkpoints_dir:
        return os.path.join(args.checkpoints_dir, logging_name)
    root = executor.logging_root(args)
    if "://" in root:
        raise RecipeError("the runner's checkpoints must be on a filesystem, and --logging-dir is remote",
                          field="--checkpoints-dir", fix="add --checkpoints-dir <a shared folder>")
    return os.path.join(root, logging_name, "inference-checkpoints")


def run(steps: list, rollout, args: argparse.Namespace, name: str, *, output: str, reads=(), config: dict,
        shared_context: dict | None = None, adapter=None, log=print) -> dict:
    """Run `steps` (readers, filters) then the inference runner writing chat/annotation rows to `output`."""
    from datatrove.pipeline.writers import JsonlWriter

    check_inference_args(args)
    logging_name, _ = executor.keyed_name(name, args, reads=reads, writes=[output], config=config)
    checkpoints = checkpoints_folder(args, logging_name)
    writer = JsonlWriter(output, output_filename=OUTPUT_FILENAME, compression=None, adapter=adapter)
    runner = RecipeInferenceRunner(rollout, inference_config(args), writer, shared_context=shared_context,
                                   checkpoints_local_dir=checkpoints, records_per_chunk=args.records_per_chunk,
                                   skip_bad_requests=True, api_key_env=args.api_key_env)
    return executor.run([*steps, runner], args, name, reads=reads, writes=[output], config=config, log=log)


def summary(stats: dict) -> list[str]:
    """What the runner did, from a run's merged stats (executor.read_stats)."""
    s = next((v for k, v in stats.items() if "Inference" in k), None)
    if s is None:
        return []
    line = (f"{int(s.get('documents_processed', 0))} documents, {int(s.get('successful_requests', 0))} requests answered "
            f"({int(s.get('prompt_tokens', 0)):,} prompt / {int(s.get('completion_tokens', 0)):,} completion tokens)")
    extra = [f"{int(s[k])} {k.replace('_', ' ')}" for k in ("failed_rollouts", "skipped_bad_requests", "failed_requests")
             if s.get(k)]
    return [line + (f"; {', '.join(extra)}" if extra else "")]
