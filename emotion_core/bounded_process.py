"""Run a child process with budgets on its output, its error text and its wall-clock time.

``subprocess.run(capture_output=True)`` keeps everything a child writes and stops it only at its
time limit, so a decoder told to upsample a file that claims 1 Hz can fill gigabytes of our memory
before the limit is reached. :func:`run_bounded` reads the output as it comes and stops the child as
soon as it has written enough, keeps only the tail of its error text, lets a caller stop it early on
what the error text says (ffmpeg describes its input there before it decodes anything), and kills it
at its deadline. Nothing it starts outlives the call.
"""

from __future__ import annotations

import collections
import io
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

READ_CHUNK_BYTES = 1 << 16  # bytes per read from the child's pipes
STDERR_TAIL_BYTES = 1 << 16  # error text kept (bytes); ffmpeg's own report of a stream fits easily


@dataclass(frozen=True)
class BoundedResult:
    """What a child wrote and how it ended.

    Attributes
    ----------
    stdout : bytes
        At most the requested number of bytes of its output.
    stderr : bytes
        The last ``STDERR_TAIL_BYTES`` of its error text.
    returncode : int
        Its exit status (negative: the signal that ended it; after a stop, the kill).
    output_full : bool
        It was stopped because its output reached the budget; ``returncode`` is then meaningless.
    timed_out : bool
        It was killed at its deadline.
    refusal : str or None
        What the ``check_stderr`` callback said when it stopped the child.
    """

    stdout: bytes
    stderr: bytes
    returncode: int
    output_full: bool
    timed_out: bool
    refusal: str | None


def run_bounded(
    command: Sequence[str],
    *,
    stdin: bytes | None,
    max_stdout_bytes: int,
    timeout_s: float,
    check_stderr: Callable[[str], str | None] | None = None,
) -> BoundedResult:
    """Run ``command``, feeding it ``stdin``, and stop it at whichever budget it reaches first.

    Parameters
    ----------
    command : sequence of str
        The program and its arguments (no shell).
    stdin : bytes or None
        Written to the child's input, which is then closed; ``None`` gives it no input.
    max_stdout_bytes : int
        Output kept; once the child has written this much it is killed (``output_full``).
    timeout_s : float
        Wall-clock deadline for the whole run (s).
    check_stderr : callable, optional
        Called with each complete line of error text; a string returned stops the child and is
        returned as ``refusal``.

    Returns
    -------
    BoundedResult
    """
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Popen made these pipes (PIPE above): buffered readers and a writer, never None.
    child_out = cast(io.BufferedReader, process.stdout)
    child_err = cast(io.BufferedReader, process.stderr)
    child_in = cast(io.BufferedWriter, process.stdin)
    stderr_tail: collections.deque[bytes] = collections.deque()
    refusal: list[str] = []
    timed_out = threading.Event()

    def feed(data: bytes) -> None:
        try:
            child_in.write(data)
        except (BrokenPipeError, OSError):  # the child stopped reading: it failed or was stopped
            pass
        finally:
            try:
                child_in.close()
            except OSError:
                pass

    def drain_stderr() -> None:
        kept, pending = 0, b""
        while chunk := child_err.read1(READ_CHUNK_BYTES):
            stderr_tail.append(chunk)
            kept += len(chunk)
            while kept - len(stderr_tail[0]) >= STDERR_TAIL_BYTES:
                kept -= len(stderr_tail.popleft())
            if check_stderr is None or refusal:
                continue
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[-STDERR_TAIL_BYTES:]
            for line in lines:
                if reason := check_stderr(line.decode("utf-8", "replace")):
                    refusal.append(reason)
                    process.kill()
                    break

    def expire() -> None:
        timed_out.set()
        process.kill()

    threads = [threading.Thread(target=drain_stderr, daemon=True)]
    if stdin is not None:
        threads.append(threading.Thread(target=feed, args=(stdin,), daemon=True))
    timer = threading.Timer(timeout_s, expire)
    timer.daemon = True
    output = bytearray()
    try:
        for thread in threads:
            thread.start()
        timer.start()
        while len(output) < max_stdout_bytes and (chunk := child_out.read1(READ_CHUNK_BYTES)):
            output += chunk
        output_full = len(output) >= max_stdout_bytes
        if output_full:
            process.kill()
        returncode = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:  # an exception in this thread: leave nothing running
            process.kill()
            process.wait()
        for thread in threads:
            thread.join()
        child_out.close()
        child_err.close()
    return BoundedResult(
        stdout=bytes(output[:max_stdout_bytes]),
        stderr=b"".join(stderr_tail),
        returncode=returncode,
        output_full=output_full,
        timed_out=timed_out.is_set(),
        refusal=refusal[0] if refusal else None,
    )
