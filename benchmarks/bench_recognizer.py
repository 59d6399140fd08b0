"""The recogniser served two ways, side by side: ONNX Runtime (the default install) against Keras/TensorFlow.

Each runtime runs in its own fresh process, so import time and memory are its own: cold start to ready
(imports plus loading the shipped model with its profile and community networks), the process's
resident memory once ready and after recognising, the network alone on one clip's inputs, and a whole
10 s clip after decoding as the bot serves it (features, timeline, network and the voice vector that
profiles and community statistics are kept from), as a new bot hears it and once community
statistics are ready (two more network calls per window). The probe runs with the ``moodbot``
console script's environment (BLAS threads) unless this shell sets it. Targets: a 10 s clip
recognised in <= 5 ms of network time (issue 11) and <= 20 ms in all (issue 8) on 2 cores, the bot
idle <= 300 MB. Run on an idle machine:

    python -m benchmarks.bench_recognizer [--model models/ser] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.cli import PROCESS_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent

#: Runs in a fresh process for one runtime; prints one JSON line of figures.
_PROBE = """
import json, resource, statistics, sys, time
started = time.perf_counter()
from emotion_core.recognizer.infer import EmotionRecognizer
recognizer = EmotionRecognizer.from_pretrained({model!r}, runtime={runtime!r})
ready_s = time.perf_counter() - started

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

ready_mb = rss_mb()
import numpy as np
from emotion_core.audio import decode, encode
from tests.helpers.audio import speechlike
wave = decode(encode(speechlike(10.0, 48000, seed=1), 48000, fmt="ogg", bitrate_kbps=32))
inputs = recognizer._features(wave.samples)[None]

def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)

network_ms = 1e3 * timed(lambda: recognizer._forward(inputs), {repeats})
from emotion_core.community import CommunityVoice
ref = recognizer.reference
community = CommunityVoice(1000, ref.mean, ref.std ** 2)  # ready statistics: three answers per window
own_rate = recognizer._resample(wave.samples, wave.sample_rate)
seconds = own_rate.size / recognizer.sample_rate
def served(community=None):  # what analyze() does after decoding, the voice vector included
    return recognizer._predict(
        own_rate, seconds, seconds, truncated=False, community=community, with_voice=recognizer.keeps_voice
    )
clip_ms = 1e3 * timed(served, {repeats})
community_ms = 1e3 * timed(lambda: served(community), {repeats})
print(json.dumps({{"ready_s": ready_s, "ready_mb": ready_mb, "after_mb": rss_mb(),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "network_ms": network_ms, "clip_ms": clip_ms, "community_ms": community_ms,
                  "tensorflow_loaded": "tensorflow" in sys.modules}}))
"""


def probe(model: Path, runtime: str, repeats: int) -> dict:
    """The figures of one runtime, measured in a fresh process."""
    code = _PROBE.format(model=str(model), runtime=runtime, repeats=repeats)
    # As the ``moodbot`` console script runs (its BLAS threads), unless this shell says otherwise.
    env = {**PROCESS_ENVIRONMENT, **os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{runtime}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "ser")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    figures = {runtime: probe(args.model, runtime, args.repeats) for runtime in ("onnx", "keras")}
    rows = [
        ("cold start to ready (imports + all networks)", "ready_s", "{:.2f} s"),
        ("resident memory when ready", "ready_mb", "{:.0f} MB"),
        ("resident memory after recognising", "after_mb", "{:.0f} MB"),
        ("network alone, one clip (median)", "network_ms", "{:.2f} ms"),
        ("whole 10 s clip after decoding, as served (median)", "clip_ms", "{:.1f} ms"),
        ("the same, community statistics ready (median)", "community_ms", "{:.1f} ms"),
        ("TensorFlow in the process", "tensorflow_loaded", "{}"),
    ]
    blas = os.environ.get("OPENBLAS_NUM_THREADS", PROCESS_ENVIRONMENT["OPENBLAS_NUM_THREADS"])
    print(
        f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, BLAS threads: {blas}, "
        f"model: {args.model}"
    )
    width = max(len(name) for name, _, _ in rows)
    print(f"{'':<{width}}  {'ONNX Runtime':>14}  {'Keras/TF':>14}")
    for name, key, fmt in rows:
        onnx, keras = (fmt.format(figures[runtime][key]) for runtime in ("onnx", "keras"))
        print(f"{name:<{width}}  {onnx:>14}  {keras:>14}")


if __name__ == "__main__":
    main()
