# symptom-bot on the CPU: python:3.11-slim, torch from PyTorch's CPU wheel index (plain PyPI
# would bring its CUDA build and 15 nvidia-* wheels), a non-root user, runtime data in /data.
#   docker build -t symptom-bot .
#   RUN_ARGS="--env-file .env -e DATA_DIR=/data -e KNOWLEDGE_DIR=/knowledge -e WEBHOOK_LISTEN=0.0.0.0
#     -v symptom-bot-data:/data -v $PWD/knowledge:/knowledge:ro"   # -e wins over .env's paths
#   docker run --rm $RUN_ARGS symptom-bot symptom-bot ingest
#   docker run -d --name symptom-bot $RUN_ARGS symptom-bot
# docker-compose.yml runs it with a `chroma run` server; see the README.
FROM python:3.11-slim

# Keep TORCH_VERSION equal to the pin in pyproject.toml and scripts/setup.sh.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    DATA_DIR=/data \
    KNOWLEDGE_DIR=/knowledge

RUN groupadd --system --gid 10001 symptom-bot \
    && useradd --system --create-home --no-log-init --uid 10001 --gid 10001 symptom-bot \
    && mkdir -p /data /knowledge /chroma \
    && chown symptom-bot:symptom-bot /data /chroma

WORKDIR /app

# 1. torch, CPU build only; the build stops if a CUDA build got in.
RUN python -m venv /app/.venv \
    && /app/.venv/bin/pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}" \
    && /app/.venv/bin/python -c "import sys, torch; sys.exit(torch.version.cuda is not None)"

# 2. The other dependencies, read from pyproject.toml alone: a code change reuses this layer.
COPY pyproject.toml README.md ./
RUN /app/.venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && /app/.venv/bin/pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 3. The bot (editable, so that the bundled prompts/ sit beside bot/ as the settings expect).
COPY bot ./bot
COPY prompts ./prompts
RUN /app/.venv/bin/pip install --no-deps -e .

USER 10001:10001
VOLUME ["/data"]

# Configuration valid and the index readable (the process itself is watched by Docker).
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["symptom-bot", "status"]

CMD ["symptom-bot", "run"]
