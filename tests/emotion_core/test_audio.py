"""Tests of ``emotion_core.audio``: decoding every upload format, limits, bad input, encoding, Opus.

Every file is encoded on the spot by ``conftest.make_encoded_audio`` (libsndfile or ffmpeg), so
these run without the corpora; one test also reads real corpus files where they are present.
"""

from __future__ import annotations

import functools
import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotion_core import audio as audio_module
from emotion_core.audio import (
    DEFAULT_SAMPLE_RATE,
    AudioLimits,
    Waveform,
    decode,
    encode,
    opus_roundtrip,
)
from emotion_core.errors import AudioError, AudioTooLargeError, AudioTooShortError
from tests.helpers.audio import ENCODED_FORMATS, make_encoded_audio, speechlike

SR = DEFAULT_SAMPLE_RATE
LOSSLESS = ("wav-16", "wav-24", "wav-32", "wav-float", "flac")


def _wav_header(channels: int, sample_rate: int, *, bits: int = 16, n_data: int = 4000) -> bytes:
    """A PCM WAV file with the given header fields and ``n_data`` zero bytes of data."""
    block = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH",
        1,
        channels,
        sample_rate,
        (sample_rate * block) & 0xFFFFFFFF,
        block & 0xFFFF,
        bits,
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", n_data)
    return b"RIFF" + struct.pack("<I", len(body) + n_data) + body + bytes(n_data)


def _au_header(channels: int, sample_rate: int) -> bytes:
    """A Sun/NeXT AU file (16-bit PCM), whose header has room for 32-bit channel counts."""
    return b".snd" + struct.pack(">IIIII", 24, 4000, 3, sample_rate, channels) + bytes(4000)


def _wav_bytes(samples: np.ndarray, sample_rate: int, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, sample_rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def _user_message(error: Exception) -> str:
    """Check a message is fit to show a person: one sentence, no decoder internals."""
    message = str(error)
    assert message.endswith(".") and message[0].isupper(), message
    for internal in ("Traceback", "<_io", "0x", "Error opening", "ffmpeg", "pipe:"):
        assert internal not in message, message
    return message


# --- decoding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("fmt", ENCODED_FORMATS)
def test_decode_every_format(encoded_audio, fmt: str, channels: int) -> None:
    wave = decode(encoded_audio(fmt, channels=channels))
    assert isinstance(wave, Waveform)
    assert wave.sample_rate == SR and wave.samples.dtype == np.float32 and wave.samples.ndim == 1
    assert wave.samples.size == 2 * SR and wave.duration_s == pytest.approx(2.0)
    assert not wave.truncated and wave.original_duration_s == pytest.approx(2.0, abs=0.02)
    assert np.isfinite(wave.samples).all() and np.abs(wave.samples).max() <= 1.0
    # Channels carry the signal at 1 and 0.5: their average is 0.75 of it, aligned in time.
    expected = speechlike(2.0, SR) * (0.75 if channels == 2 else 1.0)
    assert np.corrcoef(expected, wave.samples)[0, 1] > 0.95
    rms_ratio = np.sqrt(np.mean(wave.samples**2) / np.mean(expected**2))
    assert rms_ratio == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("fmt", ENCODED_FORMATS)
def test_bytes_and_path_give_the_same_samples(encoded_audio, tmp_path: Path, fmt: str) -> None:
    data = encoded_audio(fmt)
    path = tmp_path / f"clip.{fmt.split('-')[0]}"
    path.write_bytes(data)
    from_bytes = decode(data).samples
    np.testing.assert_array_equal(decode(path).samples, from_bytes)
    np.testing.assert_array_equal(decode(str(path)).samples, from_bytes)
    np.testing.assert_array_equal(decode(bytearray(data)).samples, from_bytes)
    np.testing.assert_array_equal(decode(memoryview(data)).samples, from_bytes)


@pytest.mark.parametrize("source_rate", [8000, 22050, 44100, 48000])
@pytest.mark.parametrize("target_rate", [16000, 22050])
def test_resampling_gives_the_right_length(source_rate: int, target_rate: int) -> None:
    data = _wav_bytes(speechlike(1.5, source_rate), source_rate, "PCM_16")
    wave = decode(data, sample_rate=target_rate)
    assert wave.sample_rate == target_rate
    assert wave.samples.size == round(1.5 * target_rate)
    expected = speechlike(1.5, target_rate)  # the same signal synthesised at the target rate
    assert np.corrcoef(expected, wave.samples)[0, 1] > 0.95


@pytest.mark.parametrize("fmt", ["ogg-opus", "wav-16", "mp3", "m4a-aac", "webm-opus"])
def test_long_input_is_truncated_to_the_limit(encoded_audio, fmt: str) -> None:
    limits = AudioLimits(max_duration_s=2.0)
    wave = decode(encoded_audio(fmt, duration_s=5.0), limits=limits)
    assert wave.truncated
    assert wave.samples.size == 2 * SR
    assert wave.original_duration_s == pytest.approx(5.0, abs=0.05)


def test_input_as_long_as_the_limit_is_not_truncated(encoded_audio) -> None:
    wave = decode(encoded_audio("wav-16", duration_s=2.0), limits=AudioLimits(max_duration_s=2.0))
    assert not wave.truncated and wave.samples.size == 2 * SR


@pytest.mark.parametrize(
    ("subtype", "step"),
    [("PCM_U8", 2**-7), ("PCM_16", 2**-15), ("PCM_24", 2**-23), ("PCM_32", 2**-31), ("FLOAT", 0)],
)
def test_integer_formats_are_scaled_by_their_full_scale(subtype: str, step: float) -> None:
    levels = np.array([-1.0, -0.5, -0.25, 0.0, 0.25, 0.5], dtype=np.float32)
    samples = np.repeat(levels, SR // 4)  # 1.5 s
    decoded = decode(_wav_bytes(samples, SR, subtype)).samples
    np.testing.assert_allclose(decoded, samples, atol=step + 1e-7)


def test_float_wav_beyond_full_scale_is_clipped() -> None:
    samples = np.tile(np.float32([1.5, -2.0, 0.25]), SR)
    decoded = decode(_wav_bytes(samples, SR, "FLOAT")).samples
    assert decoded.max() == 1.0 and decoded.min() == -1.0 and 0.25 in decoded


def test_channels_are_averaged() -> None:
    left = speechlike(1.0, SR)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    np.testing.assert_allclose(decode(_wav_bytes(stereo, SR, "FLOAT")).samples, left / 2, atol=1e-7)
    six = np.repeat(left[:, None], 6, axis=1) * np.float32([1, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(decode(_wav_bytes(six, SR, "FLOAT")).samples, left / 3, atol=1e-7)


def test_opus_decodes_alike_without_the_direct_rate_request(monkeypatch) -> None:
    """Opus decoded at 16 kHz by libopus (the fast path) matches the fallback, 48 kHz and soxr."""
    samples = speechlike(3.0, SR)
    voice_message = encode(samples, SR)  # 48 kHz Ogg/Opus, as Discord sends
    fast = decode(voice_message).samples

    class SoundfileWithoutPrivates:
        def __getattr__(self, name: str) -> object:
            if name in ("_snd", "_ffi"):
                raise AttributeError(name)
            return getattr(sf, name)

    monkeypatch.setattr(audio_module, "sf", SoundfileWithoutPrivates())
    slow = decode(voice_message).samples
    assert fast.size == slow.size == samples.size
    assert np.corrcoef(fast, slow)[0, 1] > 0.98
    assert np.corrcoef(fast, samples)[0, 1] > 0.98


@pytest.mark.corpora
def test_corpus_files_decode_alike_from_bytes_and_path(corpus_dir: Path) -> None:
    paths = (
        sorted(corpus_dir.glob("RAVDESS/Actor_01/*.ogg"))[:3]
        + sorted(corpus_dir.glob("nEMO/samples/*.ogg"))[:3]
    )
    if not paths:
        pytest.skip("no RAVDESS or nEMO files")
    for path in paths:
        wave = decode(path)
        assert 0.5 < wave.duration_s < 20 and not wave.truncated
        np.testing.assert_array_equal(decode(path.read_bytes()).samples, wave.samples)


# --- bad input ---------------------------------------------------------------------------------


@functools.cache
def _bad_inputs() -> dict[str, bytes]:
    ogg = make_encoded_audio("ogg-opus")
    vorbis = make_encoded_audio("ogg-vorbis", duration_s=4.0)
    m4a = make_encoded_audio("m4a-aac")
    rng = np.random.default_rng(0)
    return {
        "text": b"Dear Discord,\nthis is a letter, not a voice message.\n" * 20,
        "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.bytes(3000),
        "random bytes": rng.bytes(5000),
        "ogg cut to its first 100 bytes": ogg[:100],
        "ogg pages of garbage": b"OggS" + rng.bytes(5000),
        "ogg-vorbis cut in half": vorbis[: len(vorbis) // 2],
        "m4a cut short": m4a[: len(m4a) // 3],
        "m4a signature then garbage": m4a[:12] + rng.bytes(5000),
        "wav with 65535 channels": _wav_header(65535, SR),
        "wav at 0 Hz": _wav_header(1, 0),
        "wav at 1 Hz": _wav_header(1, 1),
        "wav at 4 GHz": _wav_header(1, 4_000_000_000),
        "wav with 0-bit samples": _wav_header(1, SR, bits=0),
        "au with a billion channels": _au_header(10**9, SR),
    }


@pytest.mark.parametrize("name", list(_bad_inputs()))
def test_unreadable_input_raises_audio_error_with_a_message(name: str, tmp_path: Path) -> None:
    data = _bad_inputs()[name]
    path = tmp_path / "voice-message.ogg"  # the name says audio; the content decides
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(AudioError) as caught:
            decode(source)
        message = _user_message(caught.value)
        assert "audio I can read" in message or "header" in message or "channels" in message


@pytest.mark.parametrize("fmt", ["ogg-opus", "flac", "wav-16", "webm-opus"])
def test_a_file_cut_short_gives_what_is_there(fmt: str) -> None:
    data = make_encoded_audio(fmt, duration_s=4.0)
    wave = decode(data[: len(data) // 2])
    assert 0.5 < wave.duration_s < 3.0 and np.isfinite(wave.samples).all()


def test_messages_say_what_a_file_seems_to_be() -> None:
    inputs = _bad_inputs()
    with pytest.raises(AudioError, match="looks like text"):
        decode(inputs["text"])
    with pytest.raises(AudioError, match="JPEG image"):
        decode(inputs["jpeg"])
    with pytest.raises(AudioError, match="too many channels"):
        decode(inputs["wav with 65535 channels"])
    with pytest.raises(AudioError, match="1 samples per second"):
        decode(inputs["wav at 1 Hz"])
    with pytest.raises(AudioError, match="cut short"):
        decode(inputs["ogg-vorbis cut in half"])


def test_decoder_errors_are_chained() -> None:
    with pytest.raises(AudioError) as caught:
        decode(_bad_inputs()["random bytes"])
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused(value: float) -> None:
    samples = speechlike(1.0, SR)
    samples[100] = value
    with pytest.raises(AudioError, match="not-a-number or infinite"):
        decode(_wav_bytes(samples, SR, "FLOAT"))


def test_empty_input_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ogg"
    empty.touch()
    for source in (b"", bytearray(), memoryview(b""), empty):
        with pytest.raises(AudioError, match=r"^This file is empty\.$"):
            decode(source)


def test_missing_paths_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="There is no file") as caught:
        decode(tmp_path / "nope.ogg")
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    with pytest.raises(AudioError, match="is not a file"):
        decode(tmp_path)


def test_too_large_is_refused_before_decoding(encoded_audio, tmp_path: Path, monkeypatch) -> None:
    data = encoded_audio("wav-16")
    path = tmp_path / "big.wav"
    path.write_bytes(data)
    monkeypatch.setattr(sf, "SoundFile", None)  # any decoding attempt would fail loudly
    for source in (data, path):
        with pytest.raises(AudioTooLargeError, match="too large") as caught:
            decode(source, limits=AudioLimits(max_bytes=1000))
        assert caught.value.size_bytes == len(data) and caught.value.limit_bytes == 1000


def test_too_short_is_refused(encoded_audio) -> None:
    with pytest.raises(AudioTooShortError, match="too short") as caught:
        decode(encoded_audio("ogg-opus", duration_s=0.3))
    assert caught.value.duration_s == pytest.approx(0.3, abs=0.01)
    assert caught.value.min_duration_s == 0.5
    with pytest.raises(AudioTooShortError) as caught:
        decode(_wav_header(1, SR, n_data=0))  # a valid header and no samples
    assert caught.value.duration_s == 0.0


def test_decode_timeout_is_an_audio_error(encoded_audio) -> None:
    with pytest.raises(AudioError, match="took longer"):
        decode(encoded_audio("webm-opus"), limits=AudioLimits(decode_timeout_s=1e-4))


def test_no_temporary_file_is_left_behind(encoded_audio, private_tempdir: Path) -> None:
    m4a = encoded_audio("m4a-aac")  # the one format that goes through a temporary file
    inputs = _bad_inputs()
    assert decode(m4a).samples.size == 2 * SR
    for data in (inputs["m4a cut short"], inputs["m4a signature then garbage"], *inputs.values()):
        with pytest.raises(AudioError):
            decode(data)
    with pytest.raises(AudioError, match="took longer"):
        decode(m4a, limits=AudioLimits(decode_timeout_s=1e-4))
    assert list(private_tempdir.iterdir()) == []


def test_bad_arguments_are_value_errors(encoded_audio) -> None:
    with pytest.raises(ValueError):
        decode(encoded_audio("wav-16"), sample_rate=0)
    with pytest.raises(TypeError):
        decode(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AudioLimits(min_duration_s=10, max_duration_s=5)
    with pytest.raises(ValueError):
        AudioLimits(max_bytes=0)


# --- encoding and the Discord round trip -------------------------------------------------------


def test_encode_wav_round_trip() -> None:
    samples = speechlike(1.0, 22050)
    data = encode(samples, 22050, fmt="wav")
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.channels) == (
        "WAV",
        "PCM_16",
        22050,
        1,
    )
    wave = decode(data, sample_rate=22050)
    np.testing.assert_allclose(wave.samples, samples, atol=2**-15)


@pytest.mark.parametrize("sample_rate", [16000, 22050])
def test_encode_ogg_is_discord_opus_and_decodes_back(sample_rate: int) -> None:
    samples = speechlike(3.0, sample_rate)
    data = encode(samples, sample_rate)
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("OGG", "OPUS", 48000, 1)
    wave = decode(data, sample_rate=sample_rate)
    assert wave.samples.size == samples.size
    assert np.corrcoef(samples, wave.samples)[0, 1] > 0.9


@pytest.mark.parametrize("bitrate_kbps", [12, 32])
def test_encode_ogg_honors_the_bit_rate(bitrate_kbps: int) -> None:
    rng = np.random.default_rng(0)
    samples = speechlike(10.0, SR) + 0.01 * rng.standard_normal(10 * SR).astype(np.float32)
    size_bytes = len(encode(samples, SR, bitrate_kbps=bitrate_kbps))
    kbps = size_bytes * 8 / 10 / 1000
    assert 0.6 * bitrate_kbps < kbps < 1.3 * bitrate_kbps, f"{kbps:.1f} kbit/s"


@pytest.mark.parametrize(("n", "sample_rate"), [(16001, 16000), (22050 * 2 + 7, 22050), (8003, 8000)])
def test_opus_roundtrip_keeps_length_and_timing(n: int, sample_rate: int) -> None:
    samples = speechlike(n / sample_rate, sample_rate)
    out = opus_roundtrip(samples, sample_rate)
    assert out.shape == samples.shape and out.dtype == np.float32
    assert np.abs(out).max() <= 1.0
    # Aligned: the best lag within +-5 ms is at most one sample (the decoder removes the codec's
    # 6.5 ms look-ahead; decoding at 48 kHz leaves a shift of about 3 samples there, 0.06 ms).
    lags = range(-sample_rate // 200, sample_rate // 200 + 1)
    core = slice(sample_rate // 100, n - sample_rate // 100)
    scores = [np.dot(samples[core], np.roll(out, -lag)[core]) for lag in lags]
    assert abs(list(lags)[int(np.argmax(scores))]) <= 1


def test_opus_roundtrip_degrades_more_at_lower_bit_rates() -> None:
    samples = speechlike(4.0, SR)
    error = {
        kbps: np.mean((opus_roundtrip(samples, SR, bitrate_kbps=kbps) - samples) ** 2)
        for kbps in (8, 32, 128)
    }
    assert error[8] > error[32] > error[128]


def test_opus_roundtrip_of_nothing_is_nothing() -> None:
    assert opus_roundtrip(np.zeros(0, np.float32), SR).shape == (0,)


def test_encode_refuses_bad_arguments() -> None:
    samples = speechlike(1.0, SR)
    with pytest.raises(ValueError):
        encode(np.stack([samples, samples]), SR)
    with pytest.raises(ValueError):
        encode(samples, SR, bitrate_kbps=500)
    with pytest.raises(ValueError):
        encode(samples, SR, fmt="mp3")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        opus_roundtrip(np.full(100, np.nan, np.float32), SR)


# --- budgets: what a header claims cannot make a small file expensive ---------------------------


def _matroska_claiming(rate_hz: float) -> bytes:
    """A real Matroska file of 16-bit PCM whose header's sampling frequency is rewritten."""
    from tests.helpers.hostile_audio import seed_files

    mkv = seed_files()["mkv-pcm"]
    at = mkv.find(b"\xb5\x88")  # EBML SamplingFrequency, an 8-byte float
    return mkv[: at + 2] + struct.pack(">d", rate_hz) + mkv[at + 10 :]


def test_a_matroska_claiming_1_hz_is_refused_from_its_header() -> None:
    for rate in (1.0, 5.0):
        with pytest.raises(AudioError, match=f"claims {rate:.0f} samples per second"):
            decode(_matroska_claiming(rate))


@pytest.mark.parametrize(
    ("channels", "rate"), [(2, 192000), (8, 48000), (32, 192000), (8, 655350), (1, 384000)]
)
def test_many_channels_at_high_rates_are_refused_before_reading(
    channels: int, rate: int, monkeypatch
) -> None:
    buffer = io.BytesIO()
    fmt = "FLAC" if channels <= 8 else "OGG"
    sf.write(buffer, np.zeros((rate // 4, channels), np.float32), rate, format=fmt,
             subtype="PCM_16" if fmt == "FLAC" else "VORBIS")  # fmt: skip
    monkeypatch.setattr(sf.SoundFile, "read", None)  # reading a single sample would fail loudly
    with pytest.raises(AudioError) as caught:
        decode(buffer.getvalue())
    message = _user_message(caught.value)
    assert "channels" in message or f"claims {rate} samples per second" in message


def test_a_high_rate_file_is_decoded_only_to_the_limit() -> None:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(90 * 192000, np.float32), 192000, format="FLAC", subtype="PCM_16")
    wave = decode(buffer.getvalue())
    assert wave.truncated and wave.duration_s == pytest.approx(60.0)
    assert wave.original_duration_s == pytest.approx(90.0)


def test_multichannel_audio_is_downmixed_block_by_block(monkeypatch) -> None:
    monkeypatch.setattr("emotion_core.decoders.BLOCK_SAMPLES", 1000)
    samples = speechlike(2.0, SR)
    audio = np.stack([samples, samples * 0.5], axis=1)
    wave = decode(_wav_bytes(audio, SR, "FLOAT"))
    np.testing.assert_allclose(wave.samples, samples * 0.75, atol=1e-6)


@pytest.mark.parametrize(
    ("container", "subtype"),
    [("AIFF", "PCM_16"), ("CAF", "PCM_16"), ("W64", "PCM_16"), ("VOC", "PCM_16"), ("NIST", "PCM_16"),
     ("MAT5", "DOUBLE"), ("AU", "PCM_16"), ("WAV", "GSM610")],
)  # fmt: skip
def test_formats_the_readme_does_not_offer_are_refused_by_name(container: str, subtype: str) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, speechlike(1.0, 8000), 8000, format=container, subtype=subtype)
    with pytest.raises(AudioError, match="I don't read") as caught:
        decode(buffer.getvalue())
    assert "ogg, opus, wav, mp3, m4a, webm or flac" in _user_message(caught.value)


def test_bytes_and_a_path_get_the_same_answer(tmp_path: Path, encoded_audio) -> None:
    import tarfile

    ogg = encoded_audio("ogg-opus")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:  # ffmpeg found the Ogg in this from a path
        info = tarfile.TarInfo("voice.ogg")
        info.size = len(ogg)
        archive.addfile(info, io.BytesIO(ogg))
    for data in (buffer.getvalue(), b"%PDF-1.4\nstream\n" + ogg, ogg + b"\0" * 1000):
        path = tmp_path / "upload.ogg"
        path.write_bytes(data)
        outcomes = []
        for source in (data, path):
            try:
                outcomes.append(decode(source).samples.tobytes())
            except AudioError as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1]


def test_a_length_no_file_of_that_size_could_hold_is_left_out() -> None:
    stream = io.BytesIO()
    samples = speechlike(70.0, 8000)
    with sf.SoundFile(stream, "w", 8000, 1, format="FLAC", subtype="PCM_16") as f:
        f.write(samples)
    data = bytearray(stream.getvalue())
    start = data.find(b"fLaC") + 8 + 10
    info = int.from_bytes(data[start : start + 8], "big") | ((1 << 36) - 1)  # total samples: 2**36 - 1
    data[start : start + 8] = info.to_bytes(8, "big")
    wave = decode(bytes(data))
    assert wave.truncated and wave.original_duration_s is None


def test_too_short_never_shows_the_minimum_itself(encoded_audio) -> None:
    with pytest.raises(AudioTooShortError) as caught:
        decode(_wav_bytes(speechlike(0.499, SR), SR, "PCM_16"))
    assert "(0.49 s)" in str(caught.value)


def test_running_out_of_memory_is_an_audio_error(encoded_audio, monkeypatch) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr("emotion_core.decoders._read_blocks", exhausted)
    with pytest.raises(AudioError, match="more memory"):
        decode(encoded_audio("wav-16"))


def test_the_in_process_decoder_stops_at_its_deadline(encoded_audio) -> None:
    with pytest.raises(AudioError, match="took longer"):
        decode(encoded_audio("flac"), limits=AudioLimits(decode_timeout_s=1e-9))
