"""The deployment files agree with the code: the supervisor waits longer than the bot drains, the
container runs MoodBot unprivileged in exec form, and state lives in the data folder."""

import re
from pathlib import Path

from bot.config import Config

ROOT = Path(__file__).resolve().parent.parent
DRAIN_S = Config.shutdown_timeout_s
#: Time after the drain for disconnecting from Discord and closing the database (docs/deployment.md).
DISCONNECT_S = 2


def test_systemd_waits_for_the_drain_and_does_not_retry_startup_mistakes():
    service: dict[str, str] = {}
    environment = []
    section = None
    for line in (ROOT / "deploy" / "moodbot.service").read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            service[key] = value
            if key == "Environment":
                environment.append(value)
    assert service["ExecStart"].endswith("moodbot run")
    assert float(service["TimeoutStopSec"]) >= DRAIN_S + DISCONNECT_S
    assert service["RestartPreventExitStatus"] == "2"
    assert "MOODBOT_DATA_DIR=/var/lib/moodbot" in environment
    assert service["StateDirectory"] == "moodbot"
    assert service["User"] != "root"


def test_compose_waits_for_the_drain_and_keeps_state_in_a_volume():
    compose = (ROOT / "compose.yaml").read_text()
    grace = re.search(r"stop_grace_period:\s*(\d+)s", compose)
    assert grace and int(grace.group(1)) >= DRAIN_S + DISCONNECT_S
    assert re.search(r"MOODBOT_DATA_DIR:\s*/data", compose)
    assert re.search(r"-\s*moodbot-data:/data", compose)


def test_container_runs_unprivileged_in_exec_form():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2  # multi-stage: no compilers in the image
    assert re.search(r"^USER moodbot$", dockerfile, re.M)
    assert re.search(r'^CMD \["moodbot", "run"\]$', dockerfile, re.M)  # exec form: SIGTERM reaches it
    assert "MOODBOT_DATA_DIR=/data" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".cache", ".env", "models/tts"} <= set(ignored)


def test_compose_with_workers_shares_one_redis_and_keeps_the_token_in_the_bot():
    queue = (ROOT / "compose.queue.yaml").read_text()
    services = dict(re.findall(r"^  (\w+):\n((?:    .*\n|\n)*)", queue, re.M))
    assert set(services) == {"redis", "moodbot", "worker"}
    urls = {name: re.findall(r"MOODBOT_REDIS_URL:\s*(\S+)", body) for name, body in services.items()}
    assert urls["moodbot"] == urls["worker"] == ["redis://redis:6379/0"]
    assert "env_file" not in services["worker"]  # the Discord token stays with the bot
    assert re.search(r'command: \["moodbot", "worker"\]', services["worker"])
    version = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    compose = (ROOT / "compose.yaml").read_text()
    assert f"image: moodbot:{version}" in compose and f"image: moodbot:{version}" in services["worker"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "'.[queue]' -c constraints.txt" in dockerfile  # one image, both roles, the measured versions
    assert re.search(r"^COPY .*\bconstraints\.txt\b", dockerfile, re.M)
