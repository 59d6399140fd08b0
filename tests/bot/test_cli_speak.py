"""``moodbot speak`` and ``moodbot models``: files written, voice reported, bad input as one clear
line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import soundfile as sf

from bot.cli import main


@pytest.fixture(autouse=True)
def empty_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No downloaded weights, whatever the developer has: the offline voice speaks."""
    models = tmp_path / "models"
    monkeypatch.setenv("MOODBOT_MODELS_DIR", str(models))
    return models


@pytest.mark.parametrize(
    ("name", "subtype", "rate"), [("out.ogg", "OPUS", 48000), ("out.wav", "PCM_16", 24000)]
)
def test_speak_writes_the_file_and_reports_voice_and_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, subtype: str, rate: int
) -> None:
    out = tmp_path / name
    status = main(
        ["speak", "Hello from MoodBot.", "--emotion", "happy", "--intensity", "0.7", "-o", str(out)]
    )
    assert status == 0
    info = sf.info(out)
    assert (info.subtype, info.samplerate, info.channels) == (subtype, rate, 1)
    printed = capsys.readouterr().out
    assert "voice: Hibari heart (offline voice, neural)" in printed
    assert "emotion: happy at intensity 0.7" in printed
    assert re.search(r"^duration: \d+\.\d\d s$", printed, re.MULTILINE)
    assert str(out) in printed


def test_empty_text_is_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["speak", "   ", "-o", str(tmp_path / "x.ogg")]) == 2
    err = capsys.readouterr().err
    assert err == "moodbot speak: There is no text to speak.\n"
    assert not (tmp_path / "x.ogg").exists()


def test_missing_tacotron2_weights_say_how_to_get_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["speak", "Hi.", "--voice", "tacotron2", "-o", str(tmp_path / "x.ogg")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "moodbot models download tacotron2" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--emotion", "bored"], "invalid choice"),
        (["--intensity", "1.5"], "outside [0, 1]"),
        (["--intensity", "lots"], "not a number"),
        (["-o", "speech.mp3"], "must end in .ogg, .opus or .wav"),
        (["-o", "no_such_folder/speech.ogg"], "the folder 'no_such_folder' does not exist"),
        (["--voice", "robot"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["speak", "Hello.", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_models_list_shows_registered_and_missing(
    capsys: pytest.CaptureFixture[str], empty_models_dir: Path
) -> None:
    assert main(["models", "list"]) == 0
    printed = capsys.readouterr().out
    assert "tacotron2" in printed and "waveglow" in printed
    assert "missing" in printed and str(empty_models_dir / "tts") in printed


def test_models_download_refuses_unknown_and_unverifiable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "download", "nope"]) == 2
    assert "registered: tacotron2, waveglow" in capsys.readouterr().err
    assert main(["models", "download", "tacotron2"]) == 2  # no sha256 published: needs consent
    assert "--allow-unverified" in capsys.readouterr().err


def test_an_unwritable_output_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "speech.ogg"
    folder.mkdir()  # a folder where the file should go
    assert main(["speak", "Hello there.", "--voice", "espeak", "-o", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("moodbot speak: ") and "Traceback" not in err and str(folder) in err


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"moodbot {version('moodbot')}"


def test_every_option_of_every_command_has_help_text() -> None:
    import argparse

    from bot.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "moodbot")
    assert missing == []


def test_a_missing_env_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--env-file", str(tmp_path / "prod.env")]) == 2
    err = capsys.readouterr().err
    assert err == f"moodbot run: there is no settings file at {tmp_path / 'prod.env'}\n"
