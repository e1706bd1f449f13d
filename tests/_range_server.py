"""Test support: serve a folder over HTTP with range requests, as a tile viewer needs.

Python's ``http.server`` answers every request with the whole file; the PMTiles protocol
refuses that (it reads an archive by byte ranges). This handler answers ``Range: bytes=a-b``,
``a-`` and ``-n`` with ``206 Partial Content``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single byte ranges; no directory listings, no logging."""

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        match = _RANGE.match(self.headers.get("Range", "").strip())
        if match is None or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(size - int(last or 0), 0), size - 1
        if start > end:
            self.send_error(416, "Range Not Satisfiable")
            return None
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(data)

    def list_directory(self, path: Any) -> Any:
        self.send_error(404, "No listing")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the block; yield its base URL."""
    handler = functools.partial(RangeHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
