"""The import rules of STYLE.md, checked by walking every module's imports."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "main.py").exists())
THIRD_PARTY_WEB = {"fastapi", "starlette", "uvicorn", "httpx", "aiohttp"}
DATABASE = {"sqlalchemy", "sqlmodel", "asyncpg", "alembic"}


def modules_imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return [p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]


def offending(paths: list[Path], forbidden) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in sorted(modules_imported(path))
        if forbidden(name)
    ]


def top(name: str) -> str:
    return name.split(".")[0]


def test_shared_imports_no_service_gateway_or_cli():
    assert (
        offending(python_files("shared"), lambda n: top(n) in {"services", "gateway", "cli"}) == []
    )


def test_gateway_imports_no_service():
    assert offending(python_files("gateway"), lambda n: top(n) == "services") == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_never_imports_another(service):
    def other_service(name: str) -> bool:
        parts = name.split(".")
        return parts[0] == "gateway" or (
            parts[0] == "services" and len(parts) > 1 and parts[1] != service
        )

    assert offending(python_files(f"services/{service}"), other_service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_domain_is_pure(service):
    domain = ROOT / "services" / service / "domain.py"
    stdlib = set(sys.stdlib_module_names)

    def impure(name: str) -> bool:
        return not (top(name) in stdlib or top(name) == "pydantic" or name == "shared.errors")

    assert offending([domain], impure) == []


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_edges_speak_http_and_only_storage_speaks_sql(service):
    package = ROOT / "services" / service
    inner = [
        p
        for p in package.rglob("*.py")
        if p.name in {"domain.py", "repository.py", "models.py", "schemas.py", "errors.py"}
        or "service" in p.relative_to(package).parts[:-1]
        or p.name == "service.py"
    ]
    assert offending(inner, lambda n: top(n) in THIRD_PARTY_WEB) == []
    routes = [package / "routes.py"]
    assert (
        offending(routes, lambda n: top(n) in DATABASE or n.endswith((".repository", ".models")))
        == []
    )


def test_services_never_commit():
    offenders = [
        str(p.relative_to(ROOT))
        for service in SERVICES
        for p in (ROOT / "services" / service).rglob("*.py")
        if "migrations" not in p.parts and ".commit()" in p.read_text()
    ]
    assert offenders == []
