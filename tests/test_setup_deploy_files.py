"""The install and deployment files agree with each other and with the README: one torch pin,
CPU builds only, a non-root image with a health check, named volumes, a restarting unit, and
CI running exactly the README's test command."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _text(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


def test_torch_is_pinned_once_everywhere():
    deps = tomllib.loads(_text("pyproject.toml"))["project"]["dependencies"]
    pins = {d.split("==", 1)[1] for d in deps if d.startswith("torch==")}
    assert len(pins) == 1
    pin = pins.pop()
    assert re.search(rf"^TORCH_VERSION={re.escape(pin)}\b", _text("scripts/setup.sh"), re.M)
    assert re.search(rf"^ARG TORCH_VERSION={re.escape(pin)}$", _text("Dockerfile"), re.M)


def test_setup_uses_the_cpu_index_and_checks_the_build():
    setup = _text("scripts/setup.sh")
    assert CPU_INDEX in setup and '--index-url "$TORCH_INDEX_URL"' in setup
    assert "torch.version.cuda" in setup and "WARNING" in setup


def test_the_image_is_cpu_only_non_root_and_checked():
    dockerfile = _text("Dockerfile")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert f"ARG TORCH_INDEX_URL={CPU_INDEX}" in dockerfile
    assert "torch.version.cuda is not None" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*", dockerfile, re.M)
    assert 'VOLUME ["/data"]' in dockerfile and "DATA_DIR=/data" in dockerfile
    ignored = _text(".dockerignore").split()
    for secret_or_state in (".env", ".venv", "data", ".git"):
        assert secret_or_state in ignored


def test_compose_runs_the_bot_with_a_chroma_server_and_named_volumes():
    compose = yaml.safe_load(_text("docker-compose.yml"))
    bot, chroma = compose["services"]["bot"], compose["services"]["chroma"]
    assert chroma["command"][:2] == ["chroma", "run"] and chroma["image"] == bot["image"]
    assert bot["environment"]["CHROMA_HOST"] == "chroma"
    assert str(bot["environment"]["CHROMA_PORT"]) == chroma["command"][
        chroma["command"].index("--port") + 1]
    assert bot["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) == {"bot-data", "chroma-data"}
    assert "bot-data:/data" in bot["volumes"] and "chroma-data:/chroma" in chroma["volumes"]


def test_the_systemd_unit_restarts_on_failure_from_its_folder():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(_text("deploy/symptom-bot.service"))
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    folder = service["WorkingDirectory"]
    assert service["ExecStart"] == f"{folder}/.venv/bin/symptom-bot run"
    assert service["User"] != "root"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_ci_runs_exactly_the_readme_test_command():
    readme = _text("README.md")
    assert "bash scripts/run.sh" in readme and "bash scripts/test.sh" in readme
    commands = [line.strip() for line in _text(".ci/run").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "bash scripts/test.sh"
