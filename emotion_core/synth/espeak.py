"""The offline voice: eSpeak NG through ctypes, so speech works without any neural weights.

``espeakng-loader`` ships libespeak-ng 1.52 and its ``espeak-ng-data`` inside the wheel, so nothing
is installed system-wide. The library is driven in synchronous mode (``AUDIO_OUTPUT_SYNCHRONOUS``):
a call to ``espeak_Synth`` returns after the whole text has been rendered, handing 16-bit PCM chunks
to a callback that appends them to a buffer. libespeak-ng keeps its state in process-wide globals
(one voice, one callback, one set of parameters), so every call into it holds one process-wide lock.

eSpeak NG is GPL-3.0-or-later; MoodBot is GPL-3.0-or-later for that reason (see ``pyproject.toml``).
Emotion is not rendered here: the same prosody stage (``emotion_core.synth.prosody``) runs after
whichever voice produced the speech.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading

import numpy as np

from emotion_core.errors import SynthesisError, TextError

log = logging.getLogger(__name__)

#: ``espeak_AUDIO_OUTPUT``: render into our callback and return when done.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
#: ``espeak_POSITION_TYPE``: positions count characters.
_POS_CHARACTER = 1
#: ``espeakCHARS_UTF8`` flag for ``espeak_Synth``.
_CHARS_UTF8 = 1
#: ``espeak_PARAMETER`` ids and the library's defaults (rate in words per minute, pitch 0-100).
_PARAM_RATE = 1
_PARAM_PITCH = 3
_EE_OK = 0

#: Default speaking rate in words per minute (eSpeak NG's own default is 175).
DEFAULT_RATE_WPM = 165

# ``int callback(short *wav, int numsamples, espeak_EVENT *events)``; returning 1 aborts synthesis.
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

# libespeak-ng is a process-wide singleton: every call into it (voice, parameters, synthesis with
# its one callback) must hold this lock, whichever EspeakVoice object makes it.
_LIBRARY_LOCK = threading.Lock()


class _Library:
    """The loaded, initialised libespeak-ng with typed entry points and the one PCM collector."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as e:
            raise SynthesisError(
                "The offline voice needs the espeakng-loader package (pip install espeakng-loader)."
            ) from e
        try:
            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as e:
            raise SynthesisError(f"Could not load the bundled eSpeak NG library: {e}") from e

        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,  # text
            ctypes.c_size_t,  # size in bytes, including the terminating NUL
            ctypes.c_uint,  # position
            ctypes.c_int,  # position type
            ctypes.c_uint,  # end position (0: none)
            ctypes.c_uint,  # flags
            ctypes.c_void_p,  # unique identifier (unused)
            ctypes.c_void_p,  # user data (unused)
        ]
        lib.espeak_Synth.restype = ctypes.c_int

        sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if sample_rate <= 0:
            raise SynthesisError(f"eSpeak NG failed to initialise with data at {data_path}.")
        self.sample_rate = int(sample_rate)
        self.chunks: list[np.ndarray] = []
        # Keep a reference to the ctypes callback for the library's lifetime, or it is collected.
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        log.debug("eSpeak NG initialised at %d Hz from %s", self.sample_rate, data_path)

    def _collect(self, wav: ctypes._Pointer, n_samples: int, events: int) -> int:
        if wav and n_samples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0


@functools.lru_cache(maxsize=1)
def _library() -> _Library:
    """Load and initialise libespeak-ng once per process (caller holds ``_LIBRARY_LOCK``)."""
    return _Library()


class EspeakVoice:
    """eSpeak NG as a :class:`~emotion_core.synth.pipeline.Voice`: text in, float32 mono PCM out.

    Parameters
    ----------
    voice : str
        An eSpeak NG voice name such as ``"en-us"`` or ``"en"`` (British English).
    rate_wpm : int
        Speaking rate in words per minute, 80-450. Emotion changes it later, in the prosody stage.
    pitch : int
        Base pitch on eSpeak's 0-100 scale (50 is its default).
    """

    def __init__(self, voice: str = "en-us", *, rate_wpm: int = DEFAULT_RATE_WPM, pitch: int = 50) -> None:
        if not 80 <= rate_wpm <= 450:
            raise ValueError(f"rate_wpm must be within 80-450 words per minute, not {rate_wpm}")
        if not 0 <= pitch <= 100:
            raise ValueError(f"pitch must be within 0-100, not {pitch}")
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.pitch = pitch
        with _LIBRARY_LOCK:
            library = _library()
            if library.lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise SynthesisError(f"eSpeak NG has no voice called {voice!r}.")
        self.sample_rate: int = library.sample_rate
        self.name = f"eSpeak NG {voice} (offline voice)"

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text``; return ``(samples, sample_rate)``: float32 mono in [-1, 1] at 22050 Hz.

        Thread-safe: the whole call (voice, parameters, synthesis) holds the library lock, so
        concurrent callers with different settings cannot interleave. Raises :class:`TextError` when
        the text produces no sound (only punctuation or spaces), :class:`SynthesisError` when eSpeak
        fails.
        """
        if not text.strip():
            raise TextError("There is no text to speak.")
        encoded = text.encode("utf-8")
        with _LIBRARY_LOCK:
            library = _library()
            lib = library.lib
            lib.espeak_SetVoiceByName(self.voice.encode())
            lib.espeak_SetParameter(_PARAM_RATE, self.rate_wpm, 0)
            lib.espeak_SetParameter(_PARAM_PITCH, self.pitch, 0)
            library.chunks = []
            buffer = ctypes.create_string_buffer(encoded)
            status = lib.espeak_Synth(buffer, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            chunks, library.chunks = library.chunks, []
        if status != _EE_OK:
            raise SynthesisError(f"eSpeak NG failed to synthesise the text (status {status}).")
        if not chunks:
            raise TextError("The text has nothing pronounceable.")
        pcm = np.concatenate(chunks)
        if not np.any(pcm):
            raise TextError("The text has nothing pronounceable.")
        return pcm.astype(np.float32) / 32768.0, self.sample_rate
