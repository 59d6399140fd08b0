"""Verified model downloads, against a real HTTP server on loopback.

The server (``http.server`` in a thread on 127.0.0.1) serves a good file (honouring ``Range``), a
truncated one (it promises more bytes than it sends, then closes), a 404, an HTML page, and a file
without ``Range`` support. After every failure nothing partial may be left behind.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from emotion_core import hub
from emotion_core.errors import DownloadError

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # ~1 MiB, more than one read chunk
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    requests: list[tuple[str, str | None]] = []

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Handler.requests.append((self.path, self.headers.get("Range")))
        if self.path == "/model.pt":
            start = 0
            if (spec := self.headers.get("Range")) and spec.startswith("bytes="):
                start = int(spec[6:].split("-")[0])
                if start >= len(PAYLOAD):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
            else:
                self.send_response(200)
            self._body(PAYLOAD[start:])
        elif self.path == "/no-range.pt":
            self.send_response(200)
            self._body(PAYLOAD)
        elif self.path == "/truncated.pt":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/login.pt":
            self.send_response(200)
            self._body(b"<html>Sign in to continue</html>", content_type="text/html; charset=utf-8")
        else:
            self.send_error(404, "Not Found")

    def _body(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, server: str) -> dict[str, hub.ModelInfo]:
    """Replace the registry with entries that point at the loopback server."""

    def entry(name: str, path: str, sha256: str | None = SHA, size: int | None = len(PAYLOAD)):
        return hub.ModelInfo(name, f"{server}{path}", f"tts/{name}.pt", sha256, size, "test", "test")

    entries = {
        "good": entry("good", "/model.pt"),
        "bad-sha": entry("bad-sha", "/model.pt", sha256="0" * 64),
        "bad-size": entry("bad-size", "/model.pt", size=len(PAYLOAD) + 1),
        "no-sha": entry("no-sha", "/model.pt", sha256=None, size=None),
        "no-range": entry("no-range", "/no-range.pt"),
        "truncated": entry("truncated", "/truncated.pt"),
        "missing": entry("missing", "/missing.pt"),
        "login": entry("login", "/login.pt"),
    }
    monkeypatch.setattr(hub, "REGISTRY", entries)
    _Handler.requests.clear()
    return entries


def _leftovers(models_dir: Path) -> list[Path]:
    return sorted(p for p in models_dir.rglob("*") if p.is_file())


def test_good_download_is_verified_and_renamed_into_place(registry: dict, tmp_path: Path) -> None:
    path = hub.download("good", models_dir=tmp_path, progress=False)
    assert path == tmp_path / "tts" / "good.pt"
    assert path.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == [path]


def test_present_and_valid_file_is_not_downloaded_again(registry: dict, tmp_path: Path) -> None:
    hub.download("good", models_dir=tmp_path, progress=False)
    _Handler.requests.clear()
    hub.download("good", models_dir=tmp_path, progress=False)
    assert _Handler.requests == []


def test_present_but_corrupt_file_is_replaced(registry: dict, tmp_path: Path) -> None:
    path = hub.download("good", models_dir=tmp_path, progress=False)
    path.write_bytes(b"corrupt")
    hub.download("good", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad-sha", "does not match"),
        ("bad-size", "expected"),
        ("truncated", "broke off"),
        ("missing", "HTTP 404"),
        ("login", "web page"),
    ],
)
def test_failures_leave_nothing_behind(registry: dict, tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(DownloadError, match=message):
        hub.download(name, models_dir=tmp_path, progress=False)
    assert _leftovers(tmp_path) == []


def test_unknown_checksum_needs_explicit_consent(registry: dict, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="--allow-unverified"):
        hub.download("no-sha", models_dir=tmp_path, progress=False)
    assert _Handler.requests == []  # refused before any traffic
    path = hub.download("no-sha", models_dir=tmp_path, allow_unverified=True, progress=False)
    assert path.read_bytes() == PAYLOAD
    _Handler.requests.clear()
    assert hub.download("no-sha", models_dir=tmp_path, progress=False) == path  # present: no consent
    assert _Handler.requests == []


def test_caller_supplied_checksum_is_enforced(registry: dict, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="does not match"):
        hub.download("no-sha", models_dir=tmp_path, sha256="f" * 64, progress=False)
    assert _leftovers(tmp_path) == []
    assert hub.download("no-sha", models_dir=tmp_path, sha256=SHA.upper(), progress=False).is_file()
    with pytest.raises(DownloadError, match="not a SHA-256"):
        hub.download("no-sha", models_dir=tmp_path, sha256="abc", force=True, progress=False)


def test_leftover_part_file_is_resumed_with_range(registry: dict, tmp_path: Path) -> None:
    part = tmp_path / "tts" / "good.pt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:1000])  # as if a previous process had been killed
    path = hub.download("good", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert _Handler.requests == [("/model.pt", "bytes=1000-")]
    assert not part.exists()


def test_leftover_part_file_restarts_when_range_is_ignored(registry: dict, tmp_path: Path) -> None:
    part = tmp_path / "tts" / "no-range.pt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage that is not a prefix")
    path = hub.download("no-range", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_mirror_url_still_gets_the_registry_checksum(registry: dict, tmp_path: Path, server: str) -> None:
    path = hub.download("good", models_dir=tmp_path, url=f"{server}/no-range.pt", progress=False)
    assert path.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="http"):
        hub.download("good", models_dir=tmp_path, url="file:///etc/passwd", force=True)


def test_unreachable_host_is_a_download_error(registry: dict, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="Could not reach"):
        hub.download("good", models_dir=tmp_path, url="http://127.0.0.1:9/x", timeout_s=2)
    assert _leftovers(tmp_path) == []


def test_unknown_name_lists_the_registered_ones(registry: dict) -> None:
    with pytest.raises(DownloadError, match="registered: bad-sha"):
        hub.get("nope")


def test_real_registry_entries_are_well_formed() -> None:
    for name, info in hub.REGISTRY.items():
        assert info.name == name
        assert info.url.startswith("https://") and info.filename.startswith("tts/")
        assert info.sha256 is None or len(info.sha256) == 64
        assert info.licence
