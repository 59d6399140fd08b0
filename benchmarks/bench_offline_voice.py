"""Real-time factor and memory of the offline voice, with and without emotion rendering.

Stages timed per sentence (median over repeats, after one warm-up call):

- ``voice``: the offline voice alone (Hibari, 24 kHz, by default; ``--voice espeak``: eSpeak NG, 22050 Hz).
- ``voice + emotion``: the voice with the angry rule at ``--intensity`` rendered: inside the voice
  for Hibari (its F0, rate and envelopes), else (or with ``--world``) by WORLD analysis, rule
  application and resynthesis.
- ``speak() neutral`` / ``speak() emotional``: the whole ``Synthesizer.speak`` (text checks, voice,
  rendering, loudness measurement, limiter). Through WORLD, neutral is resynthesised too; natively
  it is the voice itself, and an emotion costs the voice twice (once neutral, for the loudness gain).
- ``+ to_ogg``: speak() emotional plus Ogg/Opus 48 kHz encoding.

RTF = compute time / duration of the audio produced (below 1 is faster than real time). Peak
memory is the largest traced Python/numpy allocation during one stage (``tracemalloc``), and the
process's peak resident set size at the end.

Run::

    nice -n 10 python -m benchmarks.bench_offline_voice [--voice hibari|espeak] [--world] [--repeats 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from emotion_core.labels import Emotion
from emotion_core.synth.espeak import EspeakVoice
from emotion_core.synth.hibari_voice import HibariVoice
from emotion_core.synth.pipeline import Synthesizer
from emotion_core.synth.prosody import ProsodyRenderer

SENTENCES = (
    "Hello there.",
    "The quick brown fox jumps over the lazy dog.",
    "I cannot believe you did that again, after everything we talked about yesterday evening, and "
    "after you promised me that it would never happen again.",
)


def _time(fn: Callable[[], float], repeats: int) -> tuple[float, float, int]:
    """(median seconds, audio seconds, peak traced bytes) of ``fn``, which returns audio seconds."""
    audio_s = fn()  # warm-up: library loading, first-call caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), audio_s, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--voice", choices=("hibari", "espeak"), default="hibari", help="offline voice")
    parser.add_argument("--intensity", type=float, default=1.0, help="emotion intensity (default 1.0)")
    parser.add_argument("--world", action="store_true", help="render with WORLD even for Hibari")
    args = parser.parse_args()

    voice = HibariVoice() if args.voice == "hibari" else EspeakVoice()
    renderer = ProsodyRenderer()
    synth = Synthesizer(voice, native_prosody=not args.world)
    rule = renderer.rule(Emotion.ANGRY, args.intensity)

    def plain(text: str) -> float:
        samples, rate = voice.synthesize(text)
        return samples.size / rate

    def with_emotion(text: str) -> float:
        if synth.native_prosody and isinstance(voice, HibariVoice):
            samples, rate = voice.synthesize_with(text, rule)
            return samples.size / rate
        samples, rate = voice.synthesize(text)
        return renderer.apply(samples, rate, rule).size / rate

    def speak(text: str, emotion: Emotion) -> float:
        return synth.speak(text, emotion, intensity=args.intensity).duration_s

    def speak_ogg(text: str) -> float:
        speech = synth.speak(text, Emotion.ANGRY, intensity=args.intensity)
        speech.to_ogg()
        return speech.duration_s

    stages: dict[str, Callable[[str], float]] = {
        "voice": plain,
        "voice + emotion": with_emotion,
        "speak() neutral": lambda t: speak(t, Emotion.NEUTRAL),
        "speak() emotional": lambda t: speak(t, Emotion.ANGRY),
        "+ to_ogg": speak_ogg,
    }

    rendered_by = "the voice" if synth.native_prosody else "WORLD"
    print(f"{voice.name}, angry at intensity {args.intensity:g}, rendered by {rendered_by}")
    print(f"{'stage':<20} {'chars':>5} {'audio s':>8} {'compute ms':>11} {'RTF':>7} {'peak MiB':>9}")
    for name, stage in stages.items():
        rtfs = []
        for text in SENTENCES:
            seconds, audio_s, peak = _time(lambda: stage(text), args.repeats)  # noqa: B023
            rtfs.append(seconds / audio_s)
            print(
                f"{name:<20} {len(text):>5} {audio_s:>8.2f} {seconds * 1e3:>11.1f} "
                f"{seconds / audio_s:>7.4f} {peak / 2**20:>9.1f}"
            )
        print(f"{name:<20} {'mean RTF':>26} {'':>11} {np.mean(rtfs):>7.4f}")
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {max_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
