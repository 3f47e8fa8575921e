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


def layer(service: str, name: str) -> list[Path]:
    """A layer is a module (`domain.py`) or, once it grew, a package (`domain/`)."""
    package = ROOT / "services" / service
    module = package / f"{name}.py"
    return [module] if module.exists() else sorted((package / name).rglob("*.py"))


INNER_LAYERS = ("domain", "repository", "models", "schemas", "errors", "service")


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
    stdlib = set(sys.stdlib_module_names)

    def impure(name: str) -> bool:
        own_domain = name.startswith(f"services.{service}.domain")
        return not (
            top(name) in stdlib or top(name) == "pydantic" or name == "shared.errors" or own_domain
        )

    assert layer(service, "domain"), f"{service} has no domain layer"
    assert offending(layer(service, "domain"), impure) == []


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_edges_speak_http_and_only_storage_speaks_sql(service):
    inner = [path for name in INNER_LAYERS for path in layer(service, name)]
    assert offending(inner, lambda n: top(n) in THIRD_PARTY_WEB) == []
    routes = layer(service, "routes")
    assert routes, f"{service} has no routes layer"
    assert (
        offending(routes, lambda n: top(n) in DATABASE or ".repository" in n or ".models" in n)
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
