"""Timings of the audio front end: decoding each format, the Discord Opus round trip, the VAD.

Run from the project root (it borrows the test signal generator)::

    nice -n 10 .venv/bin/python -m benchmarks.bench_audio

Prints one table of median wall-clock and CPU times. Targets: decoding a 10 s Ogg/Opus voice message
under 50 ms on 2 cores; ``opus_roundtrip`` fast enough to augment thousands of clips. The last rows
time libsndfile's in-process Opus encoder, the alternative to ffmpeg that ``audio.py`` measured and
rejected.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np
import soundfile as sf
import soxr

from emotion_core.audio import decode, encode, opus_roundtrip
from emotion_core.vad import detect_speech
from tests.helpers.audio import ENCODED_FORMATS, make_encoded_audio, speechlike

SAMPLE_RATE = 16000  # Hz, the recogniser's rate
CLIP_S = 10.0  # length of the decoded files (s)
REPEATS = 7  # timed runs per row; the median is reported
ROUNDTRIP_CLIPS_S = (1.0, 3.0, 10.0)  # clip lengths for the Opus round trip (s)
ROUNDTRIP_KBPS = (12, 32)  # Discord-like bit rates (kbit/s)
LIBSNDFILE_OPUS_MAX_BPS, LIBSNDFILE_OPUS_MIN_BPS = 256_000, 6_000  # its compression level's range


def median_ms(run: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    """Median wall and CPU time of ``run()`` in ms, after one untimed warm-up call.

    CPU time counts this process and its children (ffmpeg); on a shared machine it is the better
    guide to the wall time an idle machine would show.
    """
    run()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), _cpu_s()
        run()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(_cpu_s() - start_cpu)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def libsndfile_opus_encode(samples_48k: np.ndarray, bitrate_kbps: int) -> bytes:
    """Ogg/Opus by libsndfile in process; its 0--1 compression level maps linearly to bit rate."""
    level = (LIBSNDFILE_OPUS_MAX_BPS - 1000 * bitrate_kbps) / (
        LIBSNDFILE_OPUS_MAX_BPS - LIBSNDFILE_OPUS_MIN_BPS
    )
    buffer = io.BytesIO()
    sf.write(buffer, samples_48k, 48000, format="OGG", subtype="OPUS", compression_level=level)
    return buffer.getvalue()


def main() -> None:
    rows: list[tuple[str, str, tuple[float, float], str]] = []  # (what, input, (wall, CPU) ms, note)
    signal = speechlike(CLIP_S, SAMPLE_RATE)

    voice_message = encode(signal, SAMPLE_RATE, bitrate_kbps=32)
    files = {"discord voice message (ogg-opus 48 kHz)": voice_message}
    files |= {fmt: make_encoded_audio(fmt, duration_s=CLIP_S) for fmt in ENCODED_FORMATS}
    for name, data in files.items():
        ms = median_ms(lambda data=data: decode(data))
        rows.append(("decode bytes", f"{CLIP_S:g} s {name}", ms, f"{len(data) / 1024:.0f} KiB"))

    for clip_s in ROUNDTRIP_CLIPS_S:
        clip = signal[: round(clip_s * SAMPLE_RATE)]
        for kbps in ROUNDTRIP_KBPS:
            ms = median_ms(lambda clip=clip, kbps=kbps: opus_roundtrip(clip, SAMPLE_RATE, bitrate_kbps=kbps))
            note = f"{ms[0] / clip_s:.0f} ms wall, {ms[1] / clip_s:.0f} ms CPU per s of audio"
            rows.append(("opus_roundtrip", f"{clip_s:g} s at {kbps} kbit/s", ms, note))

    ms = median_ms(lambda: detect_speech(signal, SAMPLE_RATE))
    rows.append(("detect_speech", f"{CLIP_S:g} s", ms, ""))

    # Opus encoders: ffmpeg's (what encode() uses) against libsndfile's in-process one.
    signal_48k = soxr.resample(signal, SAMPLE_RATE, 48000, quality="HQ")
    for kbps in ROUNDTRIP_KBPS:
        ms = median_ms(lambda kbps=kbps: encode(signal, SAMPLE_RATE, bitrate_kbps=kbps), repeats=3)
        size_kbps = len(encode(signal, SAMPLE_RATE, bitrate_kbps=kbps)) * 8 / CLIP_S / 1000
        rows.append(("encode ogg (ffmpeg)", f"{CLIP_S:g} s at {kbps} kbit/s", ms, f"{size_kbps:.1f} kbit/s"))
        ms = median_ms(lambda kbps=kbps: libsndfile_opus_encode(signal_48k, kbps), repeats=3)
        size_kbps = len(libsndfile_opus_encode(signal_48k, kbps)) * 8 / CLIP_S / 1000
        rows.append(
            (
                "(libsndfile opus encode)",
                f"{CLIP_S:g} s at {kbps} kbit/s",
                ms,
                f"{size_kbps:.1f} kbit/s",
            )
        )

    print(f"{os.cpu_count()} CPUs; median of {REPEATS} runs after a warm-up\n")
    print(f"{'what':<26} {'input':<44} {'wall ms':>8} {'CPU ms':>8}  note")
    print("-" * 110)
    for what, source, (wall_ms, cpu_ms), note in rows:
        print(f"{what:<26} {source:<44} {wall_ms:8.1f} {cpu_ms:8.1f}  {note}")


if __name__ == "__main__":
    main()
