"""The functional recogniser through the real pipeline: train -> save -> load -> predict, and the
cross-validation protocol that measures it, as ``moodbot evaluate --protocol`` runs it."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from bot.cli import main
from emotion_core.community import MIN_MESSAGES as COMMUNITY_MIN_MESSAGES
from emotion_core.community import CommunityVoice, Reference, align
from emotion_core.errors import ModelError
from emotion_core.labels import Emotion
from emotion_core.paths import SHIPPED_RECOGNIZER_DIR
from emotion_core.profile import MIN_MESSAGES, VoiceProfile
from emotion_core.recognizer.calibration import ANGRY_OFFSET, with_temperature
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.crossval import SCORED_MODELS
from emotion_core.recognizer.infer import EmotionRecognizer
from tests.helpers.audio import make_encoded_audio, speechlike


def test_functional_artifact_round_trips(trained_functional):
    files = ("config.json", "model.weights.h5", "MODEL_CARD.md", "baseline/model.weights.h5")
    for sub in ("profile", "community", "prosody"):
        for name in (*files, f"{sub}/model.weights.h5", f"{sub}/calibration.json"):
            assert (trained_functional / name).is_file(), name
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    assert recognizer.config == RecognizerConfig.load(trained_functional)
    assert recognizer.config.architecture.kind == "functional"
    result = recognizer.predict(speechlike(2.0, 16000, seed=7, f0_hz=260.0), 16000)
    assert result.label in Emotion and not result.no_speech
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-4)


def _probabilities(recognizer, result):
    return np.array([result.probabilities[label] for label in recognizer.labels])


def test_a_new_person_is_heard_by_both_views(trained_functional):
    """A first message's answer is the mean of the calibrated answers of the network on every
    functional and of the prosody network on the prosodic ones alone."""
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    prosody = recognizer.prosody_net
    assert prosody is not None and prosody.config.architecture.prosody
    assert (
        prosody._functional_inputs(np.zeros(recognizer.n_functionals), None).size < recognizer.n_functionals
    )
    clip = make_encoded_audio("wav-16", samples=speechlike(2.0, 16000, seed=11), sample_rate=16000)
    first = recognizer.analyze(clip)
    assert first.voice is not None
    full = recognizer._run(recognizer._functional_inputs(first.voice, None)[None])[0]
    prosodic = prosody._run(prosody._functional_inputs(first.voice, None)[None])[0]
    np.testing.assert_allclose(_probabilities(recognizer, first), (full + prosodic) / 2, atol=1e-5)
    # ... with the fused temperature, once, on the mean.
    recognizer.calibration = replace(recognizer.calibration, fused_temperature=0.5)
    sharpened = _probabilities(recognizer, recognizer.analyze(clip))
    np.testing.assert_allclose(sharpened, with_temperature((full + prosodic) / 2, 0.5), atol=1e-5)
    recognizer.calibration = replace(recognizer.calibration, fused_temperature=1.0)
    samples = speechlike(2.0, 16000, seed=11)
    np.testing.assert_allclose(
        recognizer.predict_proba(samples, 16000),
        _probabilities(recognizer, recognizer.predict(samples, 16000)),
        atol=1e-5,
    )


def test_functional_model_gives_a_timeline_on_long_clips(trained_functional):
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    audio = np.concatenate([speechlike(4.0, 16000, seed=1, f0_hz=100.0), speechlike(4.0, 16000, seed=2)])
    result = recognizer.predict(audio, 16000)
    assert len(result.timeline) >= 3
    overall = np.mean([[p.probabilities[k] for k in recognizer.labels] for p in result.timeline], axis=0)
    np.testing.assert_allclose([result.probabilities[k] for k in recognizer.labels], overall, atol=1e-5)


def test_protocol_command_scores_every_model_on_every_tested_clip(
    tiny_corpora, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MOODBOT_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "folds.json"
    argv = ["evaluate", "--protocol", "speaker-folds", "--folds", "3", "--seeds", "0", "--epochs", "2"]
    argv += ["--corpora", "SAVEE", "--corpora-dir", str(tiny_corpora), "--workers", "1", "--json", str(out)]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert report["protocol"] == "speaker-folds" and report["seeds"] == [0]
    savee = report["results"]["SAVEE"]
    assert set(savee) == {"clean", "discord"}
    for models in savee.values():
        assert set(models) == set(SCORED_MODELS)
        # 4 speakers x 8 clips, each tested exactly once.
        assert {m["n_clips"] for m in models.values()} == {32}
    printed = capsys.readouterr().out
    assert "mean UAR over corpora (clean)" in printed and "called angry" in printed
    # New people of known corpora are scored as serving answers them: with the shipped angry offset.
    assert report["angry_offsets"] == {"SAVEE": [ANGRY_OFFSET]}
    assert "angry offset chosen on every corpus at once" in printed


def test_protocol_command_refuses_what_cannot_be_measured(tiny_corpora, capsys):
    base = ["evaluate", "--corpora-dir", str(tiny_corpora), "--corpora", "SAVEE"]
    assert main([*base, "--protocol", "loco"]) == 2
    assert "at least two corpora" in capsys.readouterr().err
    assert main([*base, "--protocol", "speaker-folds", "--folds", "2"]) == 2
    assert "--folds 3 or more" in capsys.readouterr().err
    assert main([*base, "--protocol", "loco", "--speaker-shift", "1.5"]) == 2
    assert "share of draws, from 0 to 1" in capsys.readouterr().err
    assert main([*base, "--protocol", "loco", "--corpus-weight-power", "2"]) == 2
    assert "from 0 (corpora equal) to 1" in capsys.readouterr().err
    assert main([*base, "--protocol", "loco", "--corpus-share", "RAVDES=2"]) == 2
    assert "unknown corpus" in capsys.readouterr().err
    for factor in ("0", "-1", "two", "inf", ""):
        assert main([*base, "--protocol", "loco", "--corpus-share", f"RAVDESS={factor}"]) == 2
        assert "the factor must be a positive number" in capsys.readouterr().err
    assert main([*base, "--protocol", "speaker-folds", "--angry-offset", "3"]) == 2
    assert "--angry-offset is from 0 to 1.0" in capsys.readouterr().err
    assert main([*base, "--protocol", "speaker-folds", "--input-quantiles", "1"]) == 2
    assert "2 knots or more" in capsys.readouterr().err


def test_the_answer_carries_the_angry_offset_once(trained_functional):
    """The offset divides each window's final answer's angry, once, whatever was fused before it; the
    overall answer is the mean of those windows."""
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    assert recognizer.calibration.angry_offset == 0.0  # a model calibrated on validation only
    audio = np.concatenate([speechlike(4.0, 16000, seed=1, f0_hz=100.0), speechlike(4.0, 16000, seed=2)])
    before = recognizer.predict(audio, 16000)
    recognizer.calibration = replace(recognizer.calibration, angry_offset=0.7)
    after = recognizer.predict(audio, 16000)
    assert after.probabilities[Emotion.ANGRY] < before.probabilities[Emotion.ANGRY]
    for old, new in zip(before.timeline, after.timeline, strict=True):
        p, q = old.probabilities, new.probabilities
        assert q[Emotion.ANGRY] / q[Emotion.NEUTRAL] == pytest.approx(
            np.exp(-0.7) * p[Emotion.ANGRY] / p[Emotion.NEUTRAL], rel=1e-3
        )
        assert sum(q.values()) == pytest.approx(1.0, abs=1e-4)


def test_a_ready_profile_adds_the_profile_network(trained_functional):
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    assert recognizer.profiled is not None and recognizer.profiled.config.architecture.speaker_norm
    clip = make_encoded_audio("ogg-opus", samples=speechlike(2.0, 16000, seed=8), sample_rate=16000)
    first = recognizer.analyze(clip)
    assert not first.compared_with_profile
    assert first.voice is not None and first.voice.shape == (recognizer.n_functionals,)

    profile = VoiceProfile.first(first.voice)
    for _ in range(MIN_MESSAGES - 2):
        profile = profile.updated(first.voice)
    assert not profile.ready and not recognizer.analyze(clip, profile=profile).compared_with_profile
    profile = profile.updated(first.voice)
    heard = recognizer.analyze(clip, profile=profile)
    assert profile.ready and heard.compared_with_profile
    assert sum(heard.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    # Heard against a profile of this very clip, the input is all zeros: a different answer.
    assert heard.probabilities != first.probabilities
    # ... and the answer is the mean of the speaker-independent network's and the profile network's.
    profiled = recognizer.profiled._run(
        recognizer.profiled._functional_inputs(first.voice, profile.mean)[None]
    )[0]
    alone = np.array([first.probabilities[label] for label in recognizer.labels])
    fused = np.array([heard.probabilities[label] for label in recognizer.labels])
    np.testing.assert_allclose(fused, (alone + profiled) / 2, atol=1e-5)


def test_a_profile_of_another_feature_version_is_ignored(trained_functional):
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    clip = make_encoded_audio("wav-16", samples=speechlike(2.0, 16000, seed=9), sample_rate=16000)
    stale = VoiceProfile(MIN_MESSAGES, np.zeros(10, np.float32))
    assert not recognizer.analyze(clip, profile=stale).compared_with_profile


def test_ready_community_statistics_add_the_aligned_clip_and_the_profile_comes_on_top(trained_functional):
    recognizer = EmotionRecognizer.from_pretrained(trained_functional)
    assert recognizer.reference is not None  # training saved the corpora's reference
    heard_net = recognizer.community_net  # and the community network, trained on aligned corpora
    assert heard_net is not None and heard_net.config.architecture.corpus_aligned
    clip = make_encoded_audio("wav-16", samples=speechlike(2.0, 16000, seed=10), sample_rate=16000)
    first = recognizer.analyze(clip)
    assert first.voice is not None
    rng = np.random.default_rng(0)
    others = first.voice + rng.normal(0.0, 0.5, size=(COMMUNITY_MIN_MESSAGES, first.voice.size))
    community = CommunityVoice.first(others[0])
    for v in others[1:-1]:
        community = community.updated(v)
    assert not community.ready and not recognizer.analyze(clip, community=community).compared_with_community
    community = community.updated(others[-1])
    heard = recognizer.analyze(clip, community=community)
    assert heard.compared_with_community and not heard.compared_with_profile

    def probabilities(result):
        return _probabilities(recognizer, result)

    # Both views hear the clip as it is (their mean is a first message's answer) and aligned; the
    # community network hears it aligned; the five answers weigh the same.
    aligned = align(first.voice, community.mean, np.sqrt(community.var), recognizer.reference)
    views = (recognizer, recognizer.prosody_net)
    moved = [view._run(view._functional_inputs(aligned, None)[None])[0] for view in views]
    by_net = heard_net._run(heard_net._functional_inputs(aligned, None)[None])[0]
    expected = (2 * probabilities(first) + sum(moved) + by_net) / 5
    np.testing.assert_allclose(probabilities(heard), expected, atol=1e-5)

    profile = VoiceProfile(MIN_MESSAGES, first.voice)
    both = recognizer.analyze(clip, community=community, profile=profile)
    assert both.compared_with_community and both.compared_with_profile
    assert recognizer.profiled is not None
    profiled = recognizer.profiled._run(
        recognizer.profiled._functional_inputs(first.voice, profile.mean)[None]
    )[0]
    np.testing.assert_allclose(probabilities(both), (probabilities(heard) + profiled) / 2, atol=1e-5)
    # Statistics of another feature version are not used.
    foreign = CommunityVoice(COMMUNITY_MIN_MESSAGES, np.zeros(7, np.float32), np.ones(7, np.float32))
    assert not recognizer.analyze(clip, community=foreign).compared_with_community


@pytest.mark.parametrize(("sub", "impostor"), [("community", "profile"), ("prosody", "community")])
def test_a_model_folder_whose_companion_is_another_kind_of_network_is_refused(
    trained_functional, tmp_path, sub, impostor
):
    copy = tmp_path / "model"
    shutil.copytree(trained_functional, copy)
    shutil.rmtree(copy / sub)
    shutil.copytree(copy / impostor, copy / sub)
    with pytest.raises(ModelError, match=f"not a {sub} network"):
        EmotionRecognizer.from_pretrained(copy)


def test_a_model_folder_with_a_foreign_reference_is_refused(trained_functional, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(trained_functional, copy)
    Reference(np.zeros(3, np.float32), np.ones(3, np.float32)).save(copy)
    with pytest.raises(ModelError, match="does not fit"):
        EmotionRecognizer.from_pretrained(copy)


@pytest.mark.parametrize("sub", ["profile", "community", "prosody"])
def test_a_companion_network_alone_is_refused_with_where_to_look(sub):
    """The profile and community networks hear clips relative to what only their model folder
    supplies (a profile, a community's statistics), and the prosody network is half of an answer;
    alone they would answer plain clips wrongly."""
    with pytest.raises(ModelError, match=f"the {sub} network.*load the model folder above it"):
        EmotionRecognizer.from_pretrained(SHIPPED_RECOGNIZER_DIR / sub)


def test_models_saved_before_the_voicing_statistics_are_heard_without_them(trained_functional):
    data = RecognizerConfig.load(trained_functional).to_dict()
    assert data["features"].pop("voicing") is True  # trained now: with them
    assert RecognizerConfig.from_dict(data).features.voicing is False


def test_models_saved_before_the_modulation_statistics_are_heard_without_them(trained_functional):
    data = RecognizerConfig.load(trained_functional).to_dict()
    assert data["features"].pop("modulation") is True  # trained now: with them
    assert RecognizerConfig.from_dict(data).features.modulation is False
