"""``moodbot listening-test``: a kit of shuffled clips with a hidden key, scored from answers.csv."""

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf

from bot.cli import main


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kit") / "kit"
    assert main(["listening-test", "make", str(folder), "--voice", "espeak", "--seed", "3"]) == 0
    return folder


def _answer(kit: Path, folder: Path, heard: dict[str, str]) -> None:
    for name in ("key.json", *(p.name for p in kit.glob("clip-*.ogg"))):
        (folder / name).symlink_to(kit / name)
    with open(folder / "answers.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["clip", "heard"])
        writer.writerows(heard.items())


def test_kit_hides_the_emotions_behind_shuffled_names(kit: Path) -> None:
    key = json.loads((kit / "key.json").read_text())["clips"]
    assert len(key) == 21  # 3 sentences x 7 emotions
    assert sorted(p.name for p in kit.glob("clip-*.ogg")) == sorted(key)
    assert sf.info(kit / "clip-01.ogg").subtype == "OPUS"
    emotions_in_order = [key[name]["emotion"] for name in sorted(key)]
    assert emotions_in_order[:7] != ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"]
    with open(kit / "answers.csv", newline="") as file:
        assert [row["heard"] for row in csv.DictReader(file)] == [""] * 21


def test_a_listener_who_hears_everything_scores_one(kit: Path, tmp_path: Path, capsys) -> None:
    key = json.loads((kit / "key.json").read_text())["clips"]
    _answer(kit, tmp_path, {name: clip["emotion"].upper() for name, clip in key.items()})
    assert main(["listening-test", "score", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "21 of 21 clips answered" in out and "UAR 1.000" in out


def test_unanswered_clips_are_left_out_and_a_wrong_name_is_one_line(
    kit: Path, tmp_path: Path, capsys
) -> None:
    key = json.loads((kit / "key.json").read_text())["clips"]
    first = sorted(key)[0]
    _answer(kit, tmp_path, {first: "furious"})
    assert main(["listening-test", "score", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'furious' is not one of neutral" in err and "line 2" in err


def test_a_kit_is_never_written_over(kit: Path, capsys) -> None:
    assert main(["listening-test", "make", str(kit), "--voice", "espeak"]) == 2
    assert "is not empty" in capsys.readouterr().err
