# MoodBot: the bot, the shipped recogniser and the offline voice, on ONNX Runtime (no TensorFlow or PyTorch).
#   docker build -t moodbot .
#   docker run --env-file .env -v moodbot-data:/data --stop-timeout 10 moodbot
# Or `docker compose up -d` with compose.yaml. See docs/deployment.md.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY models/ser models/ser
COPY emotion_core emotion_core
COPY bot bot
# A wheel, not an editable install: the shipped recogniser travels inside it as package data. The queue
# extra (arq, redis-py, hiredis, click: 5 MB) lets the same image run `moodbot worker` (compose.queue.yaml).
# constraints.txt: the versions the README's figures were measured with (they resolve for Python 3.12 too).
RUN python -m venv /opt/moodbot \
 && /opt/moodbot/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/moodbot/bin/pip install --no-cache-dir '.[queue]' -c constraints.txt \
 && /opt/moodbot/bin/pip check

FROM python:3.12-slim
ENV PATH=/opt/moodbot/bin:$PATH \
    MOODBOT_DATA_DIR=/data \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=build /opt/moodbot /opt/moodbot
# Prove the offline path works in this image: speak a sentence with the offline voice, analyse it.
RUN moodbot speak "MoodBot is ready." --emotion happy -o /tmp/ready.ogg \
 && moodbot analyze /tmp/ready.ogg \
 && rm /tmp/ready.ogg \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home moodbot \
 && mkdir /data && chown moodbot:moodbot /data
USER moodbot
WORKDIR /data
VOLUME ["/data"]
# Exec form, so SIGTERM from `docker stop` reaches MoodBot, which drains and exits 0.
CMD ["moodbot", "run"]
