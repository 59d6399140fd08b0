"""Benchmark the recogniser: load time, recognition time of a 10 s clip, decode time, weights size.

Targets (issue 2): load under 5 s; recognition of a 10 s clip under 50 ms after decoding; decoding a
10 s Opus file under 50 ms; weights under 5 MB. Run on an idle machine:

    python benchmarks/bench_recognizer.py [--model models/ser] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emotion_core.conftest import speechlike  # noqa: E402


def _load_seconds(model: Path) -> tuple[float, float]:
    """In a fresh process: seconds to import TensorFlow and the recogniser module, then to load."""
    code = (
        "import time; t = time.perf_counter();"
        "import keras, tensorflow;"
        "from emotion_core.recognizer.infer import EmotionRecognizer;"
        "u = time.perf_counter();"
        f"EmotionRecognizer.from_pretrained({str(model)!r});"
        "print(u - t, time.perf_counter() - u)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    import_s, load_s = out.stdout.strip().splitlines()[-1].split()
    return float(import_s), float(load_s)


def _time(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up: first-call tracing and numba compilation are not serving cost
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "ser")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from emotion_core.audio import decode, encode
    from emotion_core.recognizer.infer import EmotionRecognizer

    import_s, load_s = _load_seconds(args.model)
    recognizer = EmotionRecognizer.from_pretrained(args.model)
    clip = speechlike(10.0, 48000, seed=1)
    opus = encode(clip, 48000, fmt="ogg", bitrate_kbps=32)
    waveform = decode(opus)
    decode_med, decode_max = _time(lambda: decode(opus), args.repeats)
    predict_med, predict_max = _time(
        lambda: recognizer.predict(waveform.samples, waveform.sample_rate), args.repeats
    )
    short = waveform.samples[: 4 * waveform.sample_rate]
    short_med, short_max = _time(lambda: recognizer.predict(short, waveform.sample_rate), args.repeats)
    weights = args.model / "model.weights.h5"
    params = recognizer._model.count_params()
    rows = [
        ("import TensorFlow and Keras (fresh process)", f"{import_s:.2f} s", ""),
        ("load recogniser (build network, read weights)", f"{load_s:.2f} s", "< 5 s"),
        (
            "decode 10 s Ogg/Opus 48 kHz 32 kbit/s (median / max)",
            f"{decode_med * 1e3:.1f} / {decode_max * 1e3:.1f} ms",
            "< 50 ms",
        ),
        (
            "recognise 10 s clip, timeline incl. (median / max)",
            f"{predict_med * 1e3:.1f} / {predict_max * 1e3:.1f} ms",
            "< 50 ms",
        ),
        ("recognise 4 s clip (median / max)", f"{short_med * 1e3:.1f} / {short_max * 1e3:.1f} ms", ""),
        ("weights", f"{weights.stat().st_size / 1e6:.2f} MB ({params:,} parameters)", "< 5 MB"),
    ]
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>28}  {target}")


if __name__ == "__main__":
    main()
