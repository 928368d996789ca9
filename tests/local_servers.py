"""Small servers on the loopback range for the tests: an OpenAI-compatible chat endpoint and an S3 GET server.

Both answer only what the code under test sends (datatrove's inference runner through the openai client;
s3fs/aiobotocore for the bucket), record every request, and stop with the test (daemon threads).
"""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class _Server:
    def __init__(self, handler, host: str):
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.host, self.port = host, self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class OpenAIStub(_Server):
    """GET /v1/models and POST /v1/chat/completions on `host`.

    reply(prompt) -> (status, text): what to answer to the last user message. `stall_after=n` holds every request
    after the n-th answered one without answering (until `release()`), so a test can kill the client midway.
    `redirect_to` answers every request with a 307 to that base URL instead. Records (doc marker, Authorization)
    per request in `requests`, and the markers of the answered ones in `answered`."""

    MARKER = re.compile(r"\bdoc-\d+\b")

    def __init__(self, reply: Callable[[str], tuple[int, str]], *, host: str = "127.0.0.1", model: str = "judge",
                 stall_after: int | None = None, redirect_to: str | None = None):
        self.reply, self.model, self.stall_after, self.redirect_to = reply, model, stall_after, redirect_to
        self.requests: list[tuple[str | None, str | None]] = []
        self.answered: list[str | None] = []
        self.lock, self.gate = threading.Lock(), threading.Event()
        super().__init__(_OpenAIHandler, host)
        self.url = f"http://{host}:{self.port}/v1"

    def release(self) -> None:
        self.stall_after = None
        self.gate.set()


class _OpenAIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        stub = self.server.owner
        if self.path.rstrip("/") == "/v1/models":
            return self._send(200, {"object": "list", "data": [{"id": stub.model, "object": "model"}]})
        self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):
        stub = self.server.owner
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        prompt = body["messages"][-1]["content"]
        marker = (stub.MARKER.findall(prompt) or [None])[0]
        with stub.lock:
            stub.requests.append((marker, self.headers.get("Authorization")))
            hold = stub.stall_after is not None and len(stub.answered) >= stub.stall_after
        if stub.redirect_to:
            return self._send(307, {}, {"Location": stub.redirect_to.rstrip("/") + "/chat/completions"})
        if hold:
            stub.gate.wait(60)
            self.close_connection = True
            return
        status, text = stub.reply(prompt)
        if status != 200:
            return self._send(status, {"error": {"message": text, "type": "invalid_request_error"}})
        with stub.lock:
            stub.answered.append(marker)
        self._send(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()),
                                   "total_tokens": len(prompt.split()) + len(text.split())}})


class S3Stub(_Server):
    """GET /<bucket>/<key> from `objects` ({"bucket/key": bytes}), with S3's XML errors.

    `fail[blob] = n` answers the next n GETs of that blob with 500 InternalError (a transient error).
    Records (key, Authorization header) per GET in `gets`."""

    def __init__(self, objects: dict[str, bytes], host: str = "127.0.0.1"):
        self.objects = objects
        self.fail: dict[str, int] = {}
        self.gets: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        super().__init__(_S3Handler, host)
        self.url = f"http://{host}:{self.port}"


class _S3Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _error(self, status: int, code: str) -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{code}</Message>'
                f"<Key>{self.path}</Key></Error>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        stub = self.server.owner
        key = self.path.split("?")[0].lstrip("/")
        blob = key.rsplit("/", 1)[-1]
        with stub.lock:
            stub.gets.append((key, self.headers.get("Authorization")))
            failing = stub.fail.get(blob, 0)
            if failing:
                stub.fail[blob] = failing - 1
        if failing:
            return self._error(500, "InternalError")
        if key not in stub.objects:
            return self._error(404, "NoSuchKey")
        data = stub.objects[key]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"0"')
        self.end_headers()
        self.wfile.write(data)
