"""Hibari as a :class:`~emotion_core.synth.pipeline.Voice`: an offline neural voice, nothing downloaded.

``hibari-tts`` (Apache-2.0) ships one English voice ("heart", distilled from Kokoro, 7.9 MB of int8
ONNX) inside its wheel, with its own text-to-phoneme rules, and runs on ONNX Runtime, which serving
already has. Measured on these machines (MACHINE-NOTES, issue 12): a real-time factor of about 0.005,
and with it as the base voice the round trip through the recogniser rose from 0.14 (eSpeak NG, whose
neutral already sounds tense) to 0.32. Its other voices download on first use, so only "heart" is used:
the voice must work with nothing downloaded.
"""

from __future__ import annotations

import threading

import numpy as np

from emotion_core.errors import SynthesisError

VOICE = "heart"  # the one voice inside the wheel
SEED = 0  # the model adds noise; a fixed seed makes the same text sound the same every time


class HibariVoice:
    """Hibari's bundled voice: text in, float32 mono at 24 kHz out (neutral; emotion comes later)."""

    def __init__(self) -> None:
        import onnxruntime
        from hibari import SAMPLE_RATE, Hibari

        self._tts = Hibari(voice=VOICE, threads=1)
        # Hibari's own session keeps ONNX Runtime's memory arena, about 40 MB held for good after the
        # first sentence; without it synthesis is as fast here and the bot idles 40 MB lighter.
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False
        self._tts.sess = onnxruntime.InferenceSession(
            self._tts.model_path, options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()  # one ONNX Runtime session, called from worker threads
        self.sample_rate: int = SAMPLE_RATE
        self.name = "Hibari heart (offline voice, neural)"

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text``; return ``(samples, sample_rate)``, float32 mono in [-1, 1] at 24 kHz."""
        try:
            with self._lock:
                samples = self._tts(text, seed=SEED)
        except (KeyError, ValueError, RuntimeError) as error:
            raise SynthesisError(f"The Hibari voice could not say this ({error}).") from error
        return np.clip(np.asarray(samples, np.float32), -1.0, 1.0), self.sample_rate
