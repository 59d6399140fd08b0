"""Verified model downloads, against a real HTTP server on loopback.

The server (``http.server`` in a thread on 127.0.0.1) serves a good file (honouring ``Range`` and
``If-Range``), and misbehaves in every way the issue lists: a body that breaks off with or without a
Content-Length, a Content-Length shorter than the body, a 206 that restarts at byte 0, HTML or JSON
served as ``application/octet-stream``, an endless body, a huge announced length, a byte at a time
(in the body and in the headers), redirects to ``ftp://`` and in a loop. After every failure nothing
partial may be left behind.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from emotion_core import hub
from emotion_core.errors import DownloadError

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # ~1 MiB, more than one read chunk
SHA = hashlib.sha256(PAYLOAD).hexdigest()
ETAG = '"v1"'
CAP = 256 * 1024  # the size cap of the entries whose server sends too much
DRIP_DEADLINE_S = 0.5


class _Handler(http.server.BaseHTTPRequestHandler):
    requests: list[tuple[str, str | None]] = []
    if_ranges: list[str | None] = []

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Handler.requests.append((self.path, self.headers.get("Range")))
        _Handler.if_ranges.append(self.headers.get("If-Range"))
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            self.close_connection = True

    def _answer(self) -> None:
        spec = self.headers.get("Range")
        if self.path == "/model.pt":
            start = int(spec[6:].split("-")[0]) if spec and spec.startswith("bytes=") else 0
            if self.headers.get("If-Range", ETAG) != ETAG:  # the file changed: send it whole
                start = 0
            if start >= len(PAYLOAD):
                self.send_error(416)
                return
            if start:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
            else:
                self.send_response(200)
            self.send_header("ETag", ETAG)
            self._body(PAYLOAD[start:])
        elif self.path == "/no-range.pt":
            self.send_response(200)
            self._body(PAYLOAD)
        elif self.path == "/truncated.pt":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
        elif self.path == "/login.pt":
            self.send_response(200)
            self._body(b"<html>Sign in to continue</html>", content_type="text/html; charset=utf-8")
        elif self.path in ("/no-length.pt", "/short-no-length.pt"):
            self.send_response(200)  # HTTP/1.0: the body ends where the server closes the connection
            self.end_headers()
            self.wfile.write(PAYLOAD if self.path == "/no-length.pt" else PAYLOAD[: len(PAYLOAD) // 3])
        elif self.path == "/long-body.pt":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD) // 2))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/bad-206.pt":
            if spec:  # "resumes" by sending the whole file again, labelled as starting at byte 0
                self.send_response(206)
                self.send_header("Content-Range", f"bytes 0-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
            else:
                self.send_response(200)
            self._body(PAYLOAD)
        elif self.path == "/html.pt":
            self.send_response(200)
            self._body(b"<!DOCTYPE html>\n<html><body>Please accept the terms</body></html>")
        elif self.path == "/json.pt":
            self.send_response(200)
            self._body(b'{"requestStatus": {"statusCode": "FORBIDDEN"}}')
        elif self.path == "/endless.pt":
            self.send_response(200)
            self.end_headers()
            for _ in range(1024):  # 64 MiB at most
                self.wfile.write(bytes(64 * 1024))
        elif self.path == "/announced-huge.pt":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            self.wfile.write(bytes(64 * 1024))
        elif self.path == "/drip.pt":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self._drip()
        elif self.path == "/drip-headers.pt":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
            self._drip()
        elif self.path.startswith("/chunked"):
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(PAYLOAD), 300_000):
                piece = PAYLOAD[i : i + 300_000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                if self.path == "/chunked-cut.pt":
                    break  # no more chunks and no terminating chunk
            else:
                self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        elif self.path == "/empty.pt":
            self.send_response(200)
            self._body(b"")
        elif self.path == "/to-model.pt":
            self._redirect("/model.pt")
        elif self.path == "/to-ftp.pt":
            self._redirect(f"ftp://127.0.0.1:{self.server.server_address[1]}/model.pt")
        elif self.path.startswith("/loop/"):
            self._redirect(f"/loop/{int(self.path[6:]) + 1}")
        else:
            self.send_error(404, "Not Found")

    def _body(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _drip(self) -> None:
        """A byte every 50 ms, well within any read timeout, for up to 10 s."""
        for _ in range(200):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.05)


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

    def entry(
        name: str,
        path: str,
        sha256: str | None = SHA,
        size: int | None = len(PAYLOAD),
        max_bytes: int | None = None,
    ) -> hub.ModelInfo:
        return hub.ModelInfo(
            name, f"{server}{path}", f"tts/{name}.pt", sha256, size, "test", "test", max_bytes=max_bytes
        )

    entries = {
        "good": entry("good", "/model.pt"),
        "bad-sha": entry("bad-sha", "/model.pt", sha256="0" * 64),
        "bad-size": entry("bad-size", "/model.pt", size=len(PAYLOAD) + 1),
        "no-sha": entry("no-sha", "/model.pt", sha256=None, size=None),
        "no-range": entry("no-range", "/no-range.pt"),
        "truncated": entry("truncated", "/truncated.pt"),
        "missing": entry("missing", "/missing.pt"),
        "login": entry("login", "/login.pt"),
        "no-length": entry("no-length", "/no-length.pt", size=None),
        "no-length-unverified": entry("no-length-unverified", "/no-length.pt", sha256=None, size=None),
        "short-no-length-sized": entry("short-no-length-sized", "/short-no-length.pt", sha256=None),
        "short-no-length-sha": entry("short-no-length-sha", "/short-no-length.pt", size=None),
        "long-body": entry("long-body", "/long-body.pt", sha256=None, size=None),
        "bad-206": entry("bad-206", "/bad-206.pt"),
        "html": entry("html", "/html.pt", sha256=None, size=None),
        "json": entry("json", "/json.pt", sha256=None, size=None),
        "endless": entry("endless", "/endless.pt", size=None, max_bytes=CAP),
        "announced-huge": entry("announced-huge", "/announced-huge.pt", size=None, max_bytes=CAP),
        "drip": entry("drip", "/drip.pt"),
        "drip-headers": entry("drip-headers", "/drip-headers.pt"),
        "chunked": entry("chunked", "/chunked.pt", sha256=None, size=None),
        "chunked-cut": entry("chunked-cut", "/chunked-cut.pt", sha256=None, size=None),
        "empty": entry("empty", "/empty.pt", sha256=None, size=None),
        "redirected": entry("redirected", "/to-model.pt"),
        "to-ftp": entry("to-ftp", "/to-ftp.pt"),
        "loop": entry("loop", "/loop/0"),
    }
    monkeypatch.setattr(hub, "REGISTRY", entries)
    _Handler.requests.clear()
    _Handler.if_ranges.clear()
    return entries


def _leftovers(models_dir: Path) -> list[Path]:
    return sorted(p for p in models_dir.rglob("*") if p.is_file())


def _killed_download(
    models_dir: Path, name: str, data: bytes, *, url: str, validator: str | None = ETAG
) -> Path:
    """Leave what a download process killed outright leaves: a ``.part`` and its sidecar."""
    part = models_dir / "tts" / f"{name}.pt.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data)
    facts = {"url": url, "validator": validator, "length": len(PAYLOAD)}
    part.with_name(part.name + ".json").write_text(json.dumps(facts))
    return part


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
        ("bad-size", "announces 1048580 bytes, expected 1048581"),
        ("truncated", "broke off after 349526 of 1048580 bytes"),
        ("missing", "HTTP 404"),
        ("login", "web page"),
        # A body without Content-Length: refused outright where nothing could tell it is whole ...
        ("no-length-unverified", r"no Content-Length.*--sha256"),
        # ... and caught where the exact size or the digest is known.
        ("short-no-length-sized", "got 349526 bytes, expected 1048580"),
        ("short-no-length-sha", "does not match"),
        ("long-body", "more than the 524290 bytes its Content-Length announced"),
        ("html", r"sent text where a binary checkpoint was expected \(it begins b'<!DOCTYPE html>"),
        ("json", "sent text where a binary checkpoint"),
        ("endless", f"sent more than the {CAP} bytes that endless may have"),
        ("announced-huge", f"announces {1 << 30} bytes, more than the {CAP}"),
        ("chunked-cut", "broke off after 300000 bytes"),
        ("empty", "empty file"),
        ("to-ftp", r"redirected to 'ftp://127\.0\.0\.1:\d+/model\.pt', which is not followed"),
        ("loop", "redirected more than 5 times"),
    ],
)
def test_failures_leave_nothing_behind(registry: dict, tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(DownloadError, match=message):
        hub.download(name, models_dir=tmp_path, allow_unverified=True, progress=False)
    assert _leftovers(tmp_path) == []


def test_redirect_to_ftp_is_not_followed(registry: dict, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="only redirects to http:// or https:// are"):
        hub.download("to-ftp", models_dir=tmp_path, progress=False)
    assert [path for path, _ in _Handler.requests] == ["/to-ftp.pt"]


def test_redirect_from_https_may_not_downgrade_to_http() -> None:
    handler = hub._RedirectHandler("https://example.org/model.pt")
    request = urllib.request.Request("https://example.org/model.pt")
    with pytest.raises(DownloadError, match="only redirects to https:// are"):
        handler.redirect_request(request, io.BytesIO(), 302, "Found", {}, "http://example.org/model.pt")


@pytest.mark.parametrize("name", ["drip", "drip-headers"])
def test_a_trickle_is_stopped_at_the_deadline(registry: dict, tmp_path: Path, name: str) -> None:
    started = time.monotonic()
    with pytest.raises(DownloadError, match=f"did not finish within {DRIP_DEADLINE_S:g} s.*--deadline-s"):
        hub.download(name, models_dir=tmp_path, progress=False, timeout_s=5, deadline_s=DRIP_DEADLINE_S)
    assert time.monotonic() - started < 2
    assert _leftovers(tmp_path) == []
    # On a busy machine the server's thread may reach the request only after the client gave up:
    # wait for it here, so that it is not counted as traffic of the next test.
    waited = time.monotonic()
    while (f"/{name}.pt", None) not in _Handler.requests and time.monotonic() - waited < 10:
        time.sleep(0.01)


def test_default_deadline_grows_with_the_size_cap() -> None:
    small = hub.ModelInfo("s", "https://x/s", "tts/s.pt", None, 3 << 20, "test", "test")
    assert hub.default_deadline_s(small) < hub.default_deadline_s(hub.REGISTRY["tacotron2"])
    assert hub.default_deadline_s(hub.REGISTRY["tacotron2"]) < hub.default_deadline_s(
        hub.REGISTRY["waveglow"]
    )


@pytest.mark.parametrize("blocked", ["good.pt", "good.pt.part", "good.pt.part.json"])
def test_directory_at_the_destination_is_one_clear_error(
    registry: dict, tmp_path: Path, blocked: str
) -> None:
    (tmp_path / "tts" / blocked).mkdir(parents=True)
    with pytest.raises(DownloadError, match=re.escape(blocked) + " is a directory.*--models-dir"):
        hub.download("good", models_dir=tmp_path, force=True, progress=False)
    assert _Handler.requests == []
    assert (tmp_path / "tts" / blocked).is_dir()  # not ours to remove


def test_body_without_content_length_is_accepted_with_a_digest(registry: dict, tmp_path: Path) -> None:
    assert hub.download("no-length", models_dir=tmp_path, progress=False).read_bytes() == PAYLOAD


def test_chunked_body_is_complete_without_content_length(registry: dict, tmp_path: Path) -> None:
    path = hub.download("chunked", models_dir=tmp_path, allow_unverified=True, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_redirect_within_http_is_followed(registry: dict, tmp_path: Path) -> None:
    assert hub.download("redirected", models_dir=tmp_path, progress=False).read_bytes() == PAYLOAD
    assert [path for path, _ in _Handler.requests] == ["/to-model.pt", "/model.pt"]


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


def test_part_file_of_the_same_url_is_resumed_with_range(registry: dict, tmp_path: Path) -> None:
    part = _killed_download(tmp_path, "good", PAYLOAD[:1000], url=registry["good"].url)
    path = hub.download("good", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert _Handler.requests == [("/model.pt", "bytes=1000-")]
    assert _Handler.if_ranges == [ETAG]
    assert _leftovers(tmp_path) == [path]
    assert not part.exists()


@pytest.mark.parametrize("sidecar", ["none", "other url"])
def test_part_file_of_another_download_is_discarded(
    registry: dict, tmp_path: Path, server: str, sidecar: str
) -> None:
    part = _killed_download(tmp_path, "good", b"\x00" * 1000, url=f"{server}/other.pt")
    if sidecar == "none":
        part.with_name(part.name + ".json").unlink()
    path = hub.download("good", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert _Handler.requests == [("/model.pt", None)]  # no Range: started from zero
    assert _leftovers(tmp_path) == [path]


def test_part_file_of_a_changed_file_is_sent_whole(registry: dict, tmp_path: Path) -> None:
    _killed_download(tmp_path, "good", b"\x00" * 1000, url=registry["good"].url, validator='"v0"')
    path = hub.download("good", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD  # the server saw If-Range: "v0" != "v1" and sent 200
    assert _Handler.requests == [("/model.pt", "bytes=1000-")]


def test_206_at_the_wrong_offset_starts_over_from_zero(registry: dict, tmp_path: Path) -> None:
    _killed_download(tmp_path, "bad-206", PAYLOAD[:1000], url=registry["bad-206"].url)
    path = hub.download("bad-206", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD  # not PAYLOAD[:1000] + PAYLOAD
    assert _Handler.requests == [("/bad-206.pt", "bytes=1000-"), ("/bad-206.pt", None)]
    assert _leftovers(tmp_path) == [path]


def test_part_file_restarts_when_range_is_ignored(registry: dict, tmp_path: Path) -> None:
    _killed_download(tmp_path, "no-range", b"garbage that is not a prefix", url=registry["no-range"].url)
    path = hub.download("no-range", models_dir=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert _Handler.requests == [("/no-range.pt", "bytes=28-")]


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
    with pytest.raises(DownloadError, match="registered: announced-huge"):
        hub.get("nope")


def test_real_registry_entries_are_well_formed() -> None:
    for name, info in hub.REGISTRY.items():
        assert info.name == name
        assert info.url.startswith("https://") and info.filename.startswith("tts/")
        assert info.sha256 is None or len(info.sha256) == 64
        assert info.license
        assert info.size_bytes or info.max_bytes, "an explicit size or cap, not the default"
