"""Fixtures for the dataset tests: no internet, a local HTTP server, real data or a skip.

Every test here runs with the registry's URLs pointed at a closed port on 127.0.0.1, so a
bug that tries to download can never reach the network; tests that exercise downloads
serve their own files from :class:`LocalServer`.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import numpy as np
import pytest

from vilab.datasets import cache


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def offline_registry(monkeypatch):
    """Point every known URL at a closed local port for the duration of a test."""
    port = closed_port()
    for name, entry in list(cache.REGISTRY.items()):
        urls = tuple(f"http://127.0.0.1:{port}/offline/{i}/{entry.filename}" for i in range(2))
        monkeypatch.setitem(cache.REGISTRY, name, dataclasses.replace(entry, urls=urls))
    return port


class LocalServer:
    """Serves ``routes`` (path -> body, optional truncation) and records every request."""

    def __init__(self):
        self.routes: dict[str, tuple[bytes, int | None]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path not in server.routes:
                    self.send_error(404, "Not Found")
                    return
                body, cut = server.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if cut is None else body[:cut])
                self.close_connection = True  # a cut body: the connection drops mid-file

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def serve(self, path: str, body: bytes, cut: int | None = None) -> str:
        """Serve ``body`` at ``path``; with ``cut`` send only that many bytes then close."""
        self.routes[path] = (body, cut)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    local = LocalServer()
    local.thread.start()
    yield local
    local.httpd.shutdown()
    local.httpd.server_close()


@pytest.fixture
def register(monkeypatch):
    """``register(name, body, urls)``: a test-only registry entry whose checksum fits ``body``."""

    def add(name, body, urls, relpath=None, algo="sha256"):
        entry = cache.DatasetFile(
            name=name,
            relpath=relpath or f"toy/{name}.bin",
            urls=tuple(urls),
            algo=algo,
            checksum=hashlib.new(algo, body).hexdigest(),
            size=len(body),
            description=f"test file {name}",
        )
        monkeypatch.setitem(cache.REGISTRY, name, entry)
        return entry

    return add


@pytest.fixture
def toy(register, server):
    """A registered file "toy" (200 kB) whose URLs are /canonical/ and /mirror/ on ``server``.

    Nothing is served until a test calls ``server.serve(toy.canonical_path, toy.body)``.
    """
    body = bytes(range(256)) * 800  # several read chunks
    paths = ("/canonical/toy.bin", "/mirror/toy.bin")
    entry = register("toy", body, [server.url(p) for p in paths])
    return SimpleNamespace(
        entry=entry, body=body, canonical_path=paths[0], mirror_path=paths[1], urls=entry.urls
    )


@pytest.fixture
def files_in():
    """``files_in(root)``: every file under root, hidden temporaries included."""
    return lambda root: sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def idx_bytes():
    """``idx_bytes(array)``: a gzipped IDX file of unsigned bytes, as MNIST ships them."""

    def encode(array: np.ndarray) -> bytes:
        magic = {1: 2049, 3: 2051}[array.ndim]
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        return gzip.compress(header + array.astype(np.uint8).tobytes())

    return encode


def require_cached(*names: str):
    """The cache folder in use if it holds ``names``; otherwise skip, saying why."""
    root = cache.data_dir()
    missing = [n for n in names if cache.file_status(cache.REGISTRY[n], root) != "cached"]
    if missing:
        pytest.skip(
            f"real data {', '.join(missing)} not available in {root}: set {cache.ENV_VAR} "
            "to a folder that holds it (e.g. ../shared/data) or run "
            + " and ".join(f"`vilab data fetch {n}`" for n in missing)
        )
    return root


@pytest.fixture
def rugged_dir():
    return require_cached("rugged")


@pytest.fixture
def mnist_test_dir():
    return require_cached("mnist-test-images", "mnist-test-labels")
