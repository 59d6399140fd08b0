"""Inference: one object owns a recogniser's weights, feature config and labels.

``EmotionRecognizer.predict`` turns a waveform into a typed :class:`EmotionResult`: the overall mood,
its confidence, every label's probability, a mood timeline for long clips, and a no-speech flag (so
silence is reported as such instead of getting a random emotion). The network runs through one
compiled TensorFlow function, which is thread-safe and about 4x faster than calling the model.
This module imports no training code.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from emotion_core.audio import AudioLimits, decode
from emotion_core.community import CommunityVoice, Reference, align, fuse_answers
from emotion_core.errors import ModelError
from emotion_core.features import log_from_power, log_mel, mel_power, mfcc_mean, speech_bounds, trim_silence
from emotion_core.functionals import (
    functional_names,
    network_input_size,
    network_inputs,
    pitch_semitones,
    spectral_statistics,
    utterance_functionals,
    window_statistics,
    with_pitch,
)
from emotion_core.labels import Emotion
from emotion_core.paths import SHIPPED_RECOGNIZER_DIR
from emotion_core.profile import VoiceProfile
from emotion_core.recognizer.calibration import Calibration
from emotion_core.recognizer.config import (
    COMMUNITY_DIR,
    CONFIG_FILE,
    PROFILE_DIR,
    PROSODY_DIR,
    WEIGHTS_FILE,
    RecognizerConfig,
)
from emotion_core.recognizer.onnx_export import ONNX_FILE
from emotion_core.recognizer.runtime import Network, OnnxNetwork, keras_network
from emotion_core.vad import detect_speech

#: A timeline whose label changes this many times is reported as a mixed mood, not one label.
MIXED_CHANGES = 3


def _window_starts(samples: int, window: int, hop: int) -> list[int]:
    """Where a long clip's timeline windows start (in samples): every ``hop``, and the tail gets a full
    window ending at the end."""
    starts = list(range(0, samples - window + 1, hop))
    if starts[-1] + window < samples:
        starts.append(samples - window)
    return starts


@functools.cache
def _pitch_pool() -> ThreadPoolExecutor:
    """Threads that track a clip's pitch while the calling thread judges speech and takes the mel
    transform. WORLD's DIO is a third of a clip's recognition and releases the GIL, so on two cores
    the overlap takes it off the latency at no cost to the answer; one pool for the process, sized to
    its cores, so that a bot recognising several clips at once does not multiply threads."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="moodbot-pitch")


# A forked child inherits the pool but not its threads: it must start its own.
os.register_at_fork(after_in_child=_pitch_pool.cache_clear)


@dataclass(frozen=True)
class TimelinePoint:
    """The mood of one window of a long clip."""

    start_s: float
    end_s: float
    label: Emotion
    confidence: float
    probabilities: dict[Emotion, float]


@dataclass(frozen=True)
class EmotionResult:
    """What the recogniser heard in one clip.

    ``label`` is ``None`` (and ``probabilities`` empty) when ``no_speech`` is set. ``duration_s`` is
    the analysed length; ``truncated`` says that the input was longer and only its start was heard,
    and ``original_duration_s`` is its whole length, ``None`` where the file states none plausible.
    Probabilities are calibrated where the model folder has a ``calibration.json``. ``verdict`` is
    ``"clear"``, ``"not sure"`` (the evidence is weak: low confidence or two moods close; say "A or
    B", see :meth:`ranked`) or ``"mixed"`` (the mood over time changes several times).
    """

    label: Emotion | None
    confidence: float
    probabilities: dict[Emotion, float]
    timeline: tuple[TimelinePoint, ...]
    no_speech: bool
    duration_s: float
    original_duration_s: float | None
    truncated: bool = False
    verdict: str = "clear"
    #: Heard against the person's voice profile ("compared with your usual voice").
    compared_with_profile: bool = False
    #: Heard against the community statistics too (the voices this deployment has heard).
    compared_with_community: bool = False
    #: The whole clip's utterance functionals, for updating the person's profile; ``None`` where the
    #: recogniser has no profile network.
    voice: np.ndarray | None = field(default=None, repr=False, compare=False)

    def ranked(self) -> list[tuple[Emotion, float]]:
        """Every label with its probability, most likely first."""
        return sorted(self.probabilities.items(), key=lambda item: item[1], reverse=True)


def fuse_with_profile(plain: np.ndarray, profiled: np.ndarray) -> np.ndarray:
    """How a person with a ready voice profile is heard: the mean of the speaker-independent network's
    calibrated probabilities (``plain``) and the profile network's (``profiled``).

    Cross-validation found the pair better than either alone (README, "Voice profiles"), and the
    speaker-independent half keeps a profile built from a few messages in one mood from pulling every
    answer its way. The protocol (:mod:`emotion_core.recognizer.crossval`) scores this same rule.
    """
    return (plain + profiled) / 2


class EmotionRecognizer:
    """A trained recogniser, ready to predict. Build it with :meth:`from_pretrained`."""

    def __init__(
        self,
        network: Network,
        config: RecognizerConfig,
        calibration: Calibration | None = None,
        *,
        runtime: str = "onnx",
    ) -> None:
        self.config = config
        self.calibration = calibration or Calibration()
        self._angry = config.angry_index
        #: What runs the network: ``"onnx"`` (ONNX Runtime, no TensorFlow) or ``"keras"``.
        self.runtime = runtime
        self._forward = network
        #: The network for people with a voice profile (the model folder's ``profile/``), if any.
        self.profiled: EmotionRecognizer | None = None
        #: The network for clips aligned on community statistics (``community/``), if any.
        self.community_net: EmotionRecognizer | None = None
        #: The speaker-independent network's second view, on the prosodic functionals only
        #: (``prosody/``), if any: its answers are averaged with this network's.
        self.prosody_net: EmotionRecognizer | None = None
        #: The training corpora's statistics, onto which community statistics are aligned, if any.
        self.reference: Reference | None = None

    @property
    def sample_rate(self) -> int:
        return self.config.features.sample_rate

    @property
    def labels(self) -> tuple[Emotion, ...]:
        return self.config.labels

    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike | None = None, *, runtime: str = "auto"
    ) -> EmotionRecognizer:
        """Load the recogniser saved in folder ``path`` (default: the one shipped in the package,
        ``emotion_core/shipped_recognizer``).

        ``runtime="auto"`` serves the folder's ``model.onnx`` with ONNX Runtime where there is one, and
        otherwise rebuilds the Keras network from ``config.json`` and reads only its weights (the
        ``train`` extra); ``"onnx"`` or ``"keras"`` insists on one. Either way a model folder can never
        run code. Raises :class:`ModelError` if the folder is missing or inconsistent, or holds a
        profile, community or prosody network: those hear clips relative to a person's profile or a
        community's statistics, or answer beside the network above them, which only the model folder
        above them supplies.
        """
        if runtime not in ("auto", "onnx", "keras"):
            raise ValueError(f"runtime must be 'auto', 'onnx' or 'keras', not {runtime!r}")
        folder = Path(path) if path is not None else SHIPPED_RECOGNIZER_DIR
        config = RecognizerConfig.load(folder)
        kind = config.architecture.companion
        if kind is not None:
            raise ModelError(
                f"{folder} holds the {kind} network, which is used only beside its model: "
                f"load the model folder above it ({folder.parent}) instead"
            )
        return cls._load(folder, config, runtime)

    @classmethod
    def _load(cls, folder: Path, config: RecognizerConfig, runtime: str) -> EmotionRecognizer:
        """The recogniser in ``folder`` (whose ``config`` is already read), with its companions."""
        if runtime != "keras" and (folder / ONNX_FILE).is_file():
            network: Network = OnnxNetwork(folder / ONNX_FILE)
            runtime = "onnx"
        elif runtime == "onnx":
            raise ModelError(f"{folder} has no {ONNX_FILE}; export it with the train extra, or use Keras")
        else:
            network, runtime = _keras_network(folder, config), "keras"
        recognizer = cls(network, config, Calibration.load(folder), runtime=runtime)
        sub_runtime = "keras" if runtime == "keras" else "auto"
        recognizer.profiled = cls._companion(folder, PROFILE_DIR, "profile", config, sub_runtime)
        recognizer.community_net = cls._companion(folder, COMMUNITY_DIR, "community", config, sub_runtime)
        recognizer.prosody_net = cls._companion(folder, PROSODY_DIR, "prosody", config, sub_runtime)
        if config.architecture.kind == "functional" and config.architecture.companion is None:
            try:
                recognizer.reference = Reference.load(folder, recognizer.n_functionals)
            except (ValueError, KeyError) as error:
                raise ModelError(f"{folder}: {error}") from error
        return recognizer

    @classmethod
    def _companion(
        cls, folder: Path, sub: str, kind: str, config: RecognizerConfig, runtime: str
    ) -> EmotionRecognizer | None:
        """The ``profile``, ``community`` or ``prosody`` network in ``folder / sub``, or ``None`` where
        there is none; :class:`ModelError` where the folder holds another kind of network or other
        features."""
        if not (folder / sub / CONFIG_FILE).is_file():
            return None
        network = cls._load(folder / sub, RecognizerConfig.load(folder / sub), runtime)
        if network.config.architecture.companion != kind or network.config.features != config.features:
            raise ModelError(f"{folder / sub} is not a {kind} network for {folder}")
        return network

    @property
    def n_functionals(self) -> int:
        """Length of :attr:`EmotionResult.voice` vectors (what a :class:`VoiceProfile` holds)."""
        return len(functional_names(self.config.features))

    def _features(self, samples: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
        """Model input for one trimmed clip: ``(frames, n_mels)``, ``(n_inputs,)`` or ``(n_mfcc,)``;
        a profile network's functionals are taken relative to ``centre``, the person's profile."""
        kind = self.config.architecture.kind
        if kind == "tdnn":
            return log_mel(samples, self.config.features)
        if kind == "functional":
            return self._functional_inputs(utterance_functionals(samples, self.config.features), center)
        return mfcc_mean(samples, self.config.features)

    def _functional_inputs(self, functionals: np.ndarray, center: np.ndarray | None) -> np.ndarray:
        if self.config.architecture.speaker_norm:
            if center is None:
                raise ValueError("a profile network needs the person's profile")
            functionals = functionals - center
        arch = self.config.architecture
        return network_inputs(functionals, self.config.features, arch.band_means, arch.prosody)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for a batch of model inputs, shape ``(batch, n_labels)``."""
        return self.calibration.apply(self._forward(np.asarray(batch, dtype=np.float32)))

    def _answer(self, probs: np.ndarray) -> np.ndarray:
        """What MoodBot answers from calibrated (and fused) probabilities: the calibration's fused
        temperature and angry offset applied once, to the final answer of each clip or window."""
        return self.calibration.serve(probs, self._angry)

    def predict_proba(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Probabilities of each label for the whole clip, with no speech check; shape (n_labels,).

        This is what evaluation scores: the answer on every clip, trimmed as in training (a functional
        network's together with its prosody network's, as :meth:`predict` answers a new person).
        """
        speech = trim_silence(self._resample(samples, sample_rate), self.config.features)
        if self.config.architecture.kind == "functional":
            whole = utterance_functionals(speech, self.config.features)
            return self._answer(self._run_functionals(whole[None], None))[0]
        return self._answer(self._run(self._features(speech)[None]))[0]

    def predict(self, samples: np.ndarray, sample_rate: int) -> EmotionResult:
        """Recognise the mood of a mono waveform (float32, any rate; resampled as needed).

        Speech of ``timeline.min_clip_s`` or longer is cut into overlapping windows; each window
        with speech gets a timeline point and the overall mood is the mean of those windows.
        """
        samples = self._resample(np.asarray(samples, dtype=np.float32), sample_rate)
        duration_s = samples.size / self.sample_rate
        return self._predict(samples, duration_s, duration_s, truncated=False)

    def analyze(
        self,
        source: bytes | str | os.PathLike,
        *,
        limits: AudioLimits = AudioLimits(),
        profile: VoiceProfile | None = None,
        community: CommunityVoice | None = None,
    ) -> EmotionResult:
        """Decode ``source`` (bytes or path, any supported format) and recognise its mood.

        With a ready ``profile`` (enough earlier messages of the same person) and a profile network,
        the clip is heard relative to that person's usual voice; otherwise as anybody's. With ready
        ``community`` statistics (and a model that has a reference), the speaker-independent network
        also hears it against the voices the deployment has heard (:mod:`emotion_core.community`).
        Raises :class:`~emotion_core.errors.AudioError` with a message fit to show a user.
        """
        waveform = decode(source, sample_rate=self.sample_rate, limits=limits)
        center = None
        if profile is not None and profile.ready and self.profiled is not None:
            if profile.mean.shape == (self.n_functionals,):
                center = profile.mean
        usable = (
            community is not None
            and community.ready
            and self.reference is not None
            and community.mean.shape == (self.n_functionals,)
        )
        return self._predict(
            waveform.samples,
            waveform.duration_s,
            waveform.original_duration_s,
            truncated=waveform.truncated,
            center=center,
            community=community if usable else None,
            with_voice=self.keeps_voice,
        )

    @property
    def keeps_voice(self) -> bool:
        """Whether :meth:`analyze` returns each clip's voice vector (``EmotionResult.voice``), which a
        person's profile and the community statistics are kept from."""
        return self.profiled is not None or self.config.architecture.speaker_norm

    def _resample(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        if sample_rate == self.sample_rate:
            return samples
        return soxr.resample(samples, sample_rate, self.sample_rate).astype(np.float32)

    def _predict(
        self,
        samples: np.ndarray,
        duration_s: float,
        original_s: float | None,
        *,
        truncated: bool,
        center: np.ndarray | None = None,
        community: CommunityVoice | None = None,
        with_voice: bool = False,
    ) -> EmotionResult:
        """Short and long clips take the same steps: voice activity once over the whole clip, the
        training's trimming rule once, one mel transform and one pitch track; a long clip's windows
        are slices of those, and its timeline is in the untrimmed clip's time."""
        features, rate = self.config.features, self.sample_rate

        def result(label, confidence, probabilities, timeline, no_speech, verdict="clear"):
            return EmotionResult(
                label,
                confidence,
                probabilities,
                timeline,
                no_speech,
                duration_s,
                original_s,
                truncated,
                verdict,
                compared_with_profile=center is not None and not no_speech,
                compared_with_community=community is not None and not no_speech,
                voice=None if no_speech else voice,
            )

        voice = None
        begin, end = speech_bounds(samples, features)
        speech = samples[begin:end]
        functional = self.config.architecture.kind == "functional"
        pitch = None
        if with_voice or functional:
            pitch = _pitch_pool().submit(pitch_semitones, speech, features)  # on another core
        activity = detect_speech(samples, rate)
        if not activity.has_speech:
            return result(None, 0.0, {}, (), True)
        timing = self.config.timeline
        window = int(timing.window_s * rate)
        short = speech.size < timing.min_clip_s * rate
        starts = [] if short else _window_starts(speech.size, window, int(timing.hop_s * rate))
        frames = window // features.hop_length + 1
        firsts = [s // features.hop_length for s in starts] if functional else []
        power = whole = None
        heard, semitones = [], np.empty(0)
        if pitch is not None:
            # All that needs no pitch track is computed while the tracker runs.
            power = mel_power(speech, features)
            heard = window_statistics(power, firsts, frames, features) if firsts else []
            clip = spectral_statistics(power, features) if with_voice or short else None
            semitones = pitch.result()
            if clip is not None:  # the voice vector, and a short clip's input
                whole = with_pitch(clip, semitones, features)
        if with_voice:
            voice = whole
        if short:
            if functional and whole is not None:
                probs = self._answer(self._run_functionals(whole[None], center, community))[0]
            else:
                probs = self._answer(self._run(self._features(speech, center)[None]))[0]
            return result(*self._top(probs), self._as_dict(probs), (), False, self._verdict(probs, ()))

        voiced = [activity.within(begin + s, begin + s + window).has_speech for s in starts]
        if not any(voiced):
            return result(None, 0.0, {}, (), True)
        if functional:
            vectors = [
                with_pitch(w, semitones[f : f + frames], features) for w, f in zip(heard, firsts, strict=True)
            ]
            probs = self._run_functionals(np.stack(vectors), center, community)
        else:
            probs = self._run(self._window_features(speech, starts, window, center, power))
        probs = self._answer(probs)
        timeline = tuple(
            TimelinePoint(
                (begin + start) / rate,
                (begin + start + window) / rate,
                *self._top(p),
                self._as_dict(p),
            )
            for start, p, heard in zip(starts, probs, voiced, strict=True)
            if heard
        )
        overall = probs[np.array(voiced)].mean(axis=0)
        return result(
            *self._top(overall), self._as_dict(overall), timeline, False, self._verdict(overall, timeline)
        )

    def _verdict(self, probs: np.ndarray, timeline: tuple[TimelinePoint, ...]) -> str:
        """``"mixed"`` when the mood over time changes at least :data:`MIXED_CHANGES` times, else
        ``"not sure"`` when the calibrated evidence is weak, else ``"clear"``."""
        changes = sum(a.label != b.label for a, b in zip(timeline, timeline[1:], strict=False))
        if changes >= MIXED_CHANGES:
            return "mixed"
        return "clear" if self.calibration.is_sure(probs) else "not sure"

    def _run_functionals(
        self, functionals: np.ndarray, center: np.ndarray | None, community: CommunityVoice | None = None
    ) -> np.ndarray:
        """Calibrated probabilities for a batch of functional vectors ``(batch, n_functionals)``.

        The speaker-independent network and its prosody network (where there is one) each hear the
        vector as it is; with ready community statistics each also hears it aligned on them, and the
        community network (where there is one) the aligned vector; all those answers are averaged
        (:func:`~emotion_core.community.fuse_answers`). With a person's profile (``center``) and a
        profile network, that answer and the profile network's are averaged
        (:func:`fuse_with_profile`). Cross-validation measured exactly this order.
        """
        if self.config.architecture.speaker_norm:
            return self._run(self._functional_inputs(functionals, center))
        views = [self] if self.prosody_net is None else [self, self.prosody_net]
        plain = [view._run(view._functional_inputs(functionals, None)) for view in views]
        if community is None:
            answer = fuse_answers(plain)
        else:
            assert self.reference is not None, "community statistics are only passed with a reference"
            aligned = align(functionals, community.mean, np.sqrt(community.var), self.reference)
            heard = self.community_net
            answer = fuse_answers(
                plain,
                [view._run(view._functional_inputs(aligned, None)) for view in views],
                None if heard is None else heard._run(heard._functional_inputs(aligned, None)),
            )
        if center is None:
            return answer
        assert self.profiled is not None, "a profile is only passed where there is a profile network"
        return fuse_with_profile(
            answer, self.profiled._run(self.profiled._functional_inputs(functionals, center))
        )

    def _window_features(
        self,
        samples: np.ndarray,
        starts: list[int],
        window: int,
        center: np.ndarray | None,
        power: np.ndarray | None,
    ) -> np.ndarray:
        """Inputs of equal windows for the frame-level and seed networks: ``(windows, frames, n_mels)``
        (slices of one STFT of the whole clip, ``power`` where the voice vector already needed it)
        or ``(windows, n_mfcc)``."""
        features = self.config.features
        if self.config.architecture.kind == "seed_dense":
            return np.stack([self._features(samples[s : s + window], center) for s in starts])
        frames = window // features.hop_length + 1
        power = mel_power(samples, features) if power is None else power
        first = [s // features.hop_length for s in starts]
        return np.stack([log_from_power(power[f : f + frames], features) for f in first])

    def _top(self, probs: np.ndarray) -> tuple[Emotion, float]:
        best = int(np.argmax(probs))
        return self.labels[best], float(probs[best])

    def _as_dict(self, probs: np.ndarray) -> dict[Emotion, float]:
        return {label: float(p) for label, p in zip(self.labels, probs, strict=True)}


def _keras_network(folder: Path, config: RecognizerConfig) -> Network:
    """The folder's network rebuilt in Keras from its config, with only its weights read."""
    from emotion_core.recognizer.model import build_model

    model = build_model(config)
    try:
        model.load_weights(folder / WEIGHTS_FILE)
    except (OSError, ValueError) as error:
        raise ModelError(f"could not load weights from {folder / WEIGHTS_FILE}: {error}") from error
    shapes: dict[str, list[int | None]] = {
        "tdnn": [None, config.features.n_mels],
        "functional": [
            network_input_size(config.features, config.architecture.band_means, config.architecture.prosody)
        ],
        "seed_dense": [config.features.n_mfcc],
    }
    return keras_network(model, shapes[config.architecture.kind])
