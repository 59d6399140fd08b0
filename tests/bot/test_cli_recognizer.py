"""``moodbot analyze``, ``train`` and ``evaluate`` as a user runs them: real files, real models."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from bot.cli import main
from tests.helpers.audio import make_encoded_audio, speechlike


@pytest.fixture
def voice_file(tmp_path):
    path = tmp_path / "voice.ogg"
    path.write_bytes(make_encoded_audio("ogg-opus", duration_s=3.0, sample_rate=48000))
    return path


def test_analyze_prints_mood_confidence_and_runner_ups(voice_file, capsys):
    assert main(["analyze", str(voice_file)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{voice_file}: ")
    assert "%" in line and "(then " in line and "[3.0 s]" in line


def test_analyze_json_has_every_probability(voice_file, capsys):
    assert main(["analyze", "--json", str(voice_file)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == str(voice_file)
    assert len(record["probabilities"]) == 7
    assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert record["label"] == max(record["probabilities"], key=record["probabilities"].get)


def test_analyze_long_file_prints_a_timeline(tmp_path, capsys):
    path = tmp_path / "long.wav"
    path.write_bytes(make_encoded_audio("wav-16", samples=speechlike(9.0, 16000), sample_rate=16000))
    assert main(["analyze", str(path)]) == 0
    assert capsys.readouterr().out.count(" s  ") >= 3  # one line per window


def test_analyze_reports_silence_and_bad_files_and_goes_on(tmp_path, voice_file, capsys):
    silent = tmp_path / "silent.wav"
    silent.write_bytes(make_encoded_audio("wav-16", samples=np.zeros(32000, np.float32)))
    text = tmp_path / "notes.ogg"
    text.write_text("this is not audio")
    assert main(["analyze", str(silent), str(text), str(voice_file)]) == 1
    out, err = capsys.readouterr()
    assert "no speech found" in out
    assert f"{voice_file}: " in out  # the good file after a bad one is still analysed
    assert "doesn't look like audio" in err and "Traceback" not in err


def test_analyze_with_a_missing_model_is_one_clear_line(tmp_path, voice_file, capsys):
    assert main(["analyze", "--model", str(tmp_path), str(voice_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("moodbot analyze: no recogniser at") and err.count("\n") == 1


def test_analyze_with_a_companion_network_says_which_folder_to_use(voice_file, capsys):
    from emotion_core.paths import SHIPPED_RECOGNIZER_DIR

    assert main(["analyze", "--model", str(SHIPPED_RECOGNIZER_DIR / "community"), str(voice_file)]) == 2
    err = capsys.readouterr().err
    assert "holds the community network" in err and "load the model folder above it" in err
    assert err.count("\n") == 1


def test_train_refuses_unknown_or_absent_corpora(tmp_path, capsys):
    assert main(["train", "--corpora", "NOPE", "-o", str(tmp_path / "x")]) == 2
    assert "unknown corpora ['NOPE']" in capsys.readouterr().err
    assert main(["train", "--corpora-dir", str(tmp_path), "-o", str(tmp_path / "x")]) == 2
    assert "corpora not found: EmoDB, IndianEmoSpeech, RAVDESS" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_evaluate_scores_model_and_baseline_side_by_side(trained, tiny_corpora, tmp_path, capsys):
    report = tmp_path / "report.json"
    code = main(
        ["evaluate", "--model", str(trained), "--corpora-dir", str(tiny_corpora), "--json", str(report)]
    )
    assert code == 0
    out = capsys.readouterr().out
    for row in ("clean", "discord-32k", "discord-12k"):
        assert f"{'SAVEE':16} {row:12} moodbot" in out
        assert f"{'SAVEE':16} {row:12} seed baseline" in out
    results = json.loads(report.read_text())["results"]["SAVEE"]
    assert results["clean"]["moodbot"]["n_clips"] == 8  # the held-out speaker's clips


def test_evaluate_scores_the_clips_the_model_card_scored(trained, tiny_corpora, tmp_path, capsys):
    """Training reads at most ``max_clips_per_speaker`` clips of each speaker; evaluating the folder
    later caps the test speakers the same way, so its figures are on the card's clips."""
    from emotion_core import load_corpora, load_split
    from emotion_core.recognizer.dataset import cap_per_speaker

    model = tmp_path / "model"
    shutil.copytree(trained, model)
    record = json.loads((model / "training.json").read_text())
    record["config"]["max_clips_per_speaker"] = 4
    (model / "training.json").write_text(json.dumps(record))
    report = tmp_path / "report.json"
    argv = ["evaluate", "--model", str(model), "--corpora-dir", str(tiny_corpora), "--json", str(report)]
    assert main(argv) == 0
    capsys.readouterr()
    test = load_split(model).of(load_corpora(["SAVEE"], tiny_corpora), "test")
    expected = len(cap_per_speaker(test, 4))
    assert json.loads(report.read_text())["results"]["SAVEE"]["clean"]["moodbot"]["n_clips"] == expected < 8


def test_evaluate_needs_the_models_split(tmp_path, capsys):
    assert main(["evaluate", "--model", str(tmp_path)]) == 2
    assert "has no training.json" in capsys.readouterr().err


def test_calibrate_fits_on_validation_speakers_and_serving_uses_it(trained, tiny_corpora, tmp_path, capsys):
    import shutil

    from emotion_core.recognizer.calibration import CALIBRATION_FILE, Calibration
    from emotion_core.recognizer.infer import EmotionRecognizer

    model = tmp_path / "ser"
    shutil.copytree(trained, model)
    clip = speechlike(2.0, 16000, seed=7)
    before = EmotionRecognizer.from_pretrained(model).predict(clip, 16000)
    assert main(["calibrate", "--model", str(model), "--corpora-dir", str(tiny_corpora)]) == 0
    out = capsys.readouterr().out
    assert "temperature" in out and "ECE on" in out and "coverage" in out
    calibration = Calibration.load(model)
    assert (model / CALIBRATION_FILE).exists() and calibration.temperature != 1.0
    after = EmotionRecognizer.from_pretrained(model).predict(clip, 16000)
    assert after.label == before.label  # temperature changes confidence, never the ranking
    assert after.confidence != pytest.approx(before.confidence)
    assert after.verdict in ("clear", "not sure")
    assert main(["analyze", "--json", str(_wav(tmp_path, clip)), "--model", str(model)]) in (0,)
    assert json.loads(capsys.readouterr().out)["verdict"] in ("clear", "not sure")


def test_calibrate_fits_on_the_validation_clips_training_read(trained, tiny_corpora, tmp_path, capsys):
    """Training read at most ``max_clips_per_speaker`` clips of each speaker; calibration fits on the
    same clips, so no validation speaker weighs more in the fit than training let it."""
    from emotion_core import load_corpora, load_split
    from emotion_core.recognizer.dataset import cap_per_speaker

    model = tmp_path / "model"
    shutil.copytree(trained, model)
    record = json.loads((model / "training.json").read_text())
    record["config"]["max_clips_per_speaker"] = 3
    (model / "training.json").write_text(json.dumps(record))
    assert main(["calibrate", "--model", str(model), "--corpora-dir", str(tiny_corpora)]) == 0
    split = load_split(model)
    val = split.of(load_corpora(sorted(split.corpora("val")), tiny_corpora), "val")
    capped = len(cap_per_speaker(val, 3))
    assert capped < len(val)
    assert f"ECE on {2 * capped} validation scores" in capsys.readouterr().out  # as stored and coded


def _wav(folder, samples):
    path = folder / "clip.wav"
    path.write_bytes(make_encoded_audio("wav-16", samples=samples, sample_rate=16000))
    return path


def test_evaluate_unseen_refuses_a_corpus_the_model_was_trained_on(trained, tiny_corpora, capsys):
    code = main(
        ["evaluate", "--model", str(trained), "--corpora-dir", str(tiny_corpora), "--unseen", "SAVEE"]
    )
    assert code == 2
    assert "not a cross-corpus test" in capsys.readouterr().err


@pytest.mark.parametrize("given", [None, "2"])
def test_the_console_script_runs_blas_on_one_thread_unless_told_otherwise(given):
    """Spinning BLAS threads would take the core that recognition's pitch tracker runs on."""
    code = (
        "import os\nfrom bot.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "import numpy\nfrom threadpoolctl import threadpool_info\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'],"
        " sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given  # the user's choice stands
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    setting, threads = out.stdout.strip().splitlines()[-1].split(" ", 1)
    assert setting == (given or "1")
    if given is None:
        assert threads == "[1]"
