"""The core is a library: it never imports discord, and its public API resolves."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import emotion_core

CORE = Path(emotion_core.__file__).parent


def test_no_module_of_the_core_imports_discord():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in ("discord", "bot")]
    assert offenders == []


def test_importing_the_whole_recognizer_loads_no_discord():
    code = (
        "import sys, emotion_core.recognizer.infer, emotion_core.recognizer.train, "
        "emotion_core.synth.pipeline; print('discord' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_public_name_resolves():
    for name in emotion_core.__all__:
        assert getattr(emotion_core, name) is not None


def test_a_built_wheel_carries_the_shipped_model_and_serves_it_from_anywhere(tmp_path):
    """``pip install .`` (not editable) must find ``models/ser``: it is package data of the wheel."""
    root = CORE.parent
    build = subprocess.run(  # in an isolated build environment, as a user's pip builds it
        [sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "-q", "-w", str(tmp_path / "wheel")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "wheel").glob("moodbot-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    code = (
        "import numpy as np, emotion_core.paths as p;"
        "from emotion_core import EmotionRecognizer;"
        "r = EmotionRecognizer.from_pretrained();"
        "x = (np.sin(np.arange(48000) * 0.05) * 0.3).astype('float32');"
        "r.predict(x, 16000);"
        "print(p.SHIPPED_RECOGNIZER_DIR, r.runtime)"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(target)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    where, runtime = out.stdout.split()[-2:]
    assert where.startswith(str(target)) and runtime == "onnx"
