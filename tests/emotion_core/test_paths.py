"""Where MoodBot looks for models and keeps its data, in a clone and in an installed package."""

from pathlib import Path

import pytest

from emotion_core import paths


def test_models_default_to_the_clone_folder_in_a_source_checkout(monkeypatch):
    monkeypatch.delenv("MOODBOT_MODELS_DIR", raising=False)
    assert paths.is_source_checkout()
    assert paths.models_dir() == paths.PROJECT_ROOT / "models"


def test_an_installed_package_keeps_downloads_in_the_data_folder(monkeypatch, tmp_path):
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    monkeypatch.setattr(paths, "PROJECT_ROOT", site_packages)
    environ = {"HOME": str(tmp_path / "home"), "MOODBOT_DATA_DIR": str(tmp_path / "data")}
    assert paths.models_dir(environ) == tmp_path / "data" / "models"


def test_the_environment_wins(tmp_path):
    assert paths.models_dir({"MOODBOT_MODELS_DIR": str(tmp_path)}) == tmp_path


@pytest.mark.skipif(paths.sys.platform != "linux", reason="the XDG default is for Linux")
def test_linux_data_folder_follows_xdg(tmp_path):
    assert paths.data_dir({"HOME": str(tmp_path)}) == tmp_path / ".local" / "share" / "moodbot"
    assert paths.data_dir({"XDG_DATA_HOME": str(tmp_path / "x")}) == Path(tmp_path / "x" / "moodbot")
