"""The simulator is an outside client: it reaches the platform through the gateway's HTTP API
only, so it imports no service and no storage (only the development token minting)."""

import ast
from datetime import date
from pathlib import Path

import simulator
from services.profile.domain import vin_problem
from simulator.world import build_world, make_vin

ALLOWED_PLATFORM_IMPORTS = {"gateway.config", "gateway.tokens", "shared.auth", "shared.errors"}


def platform_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    return {
        name for name in names if name.split(".")[0] in {"services", "gateway", "shared", "cli"}
    }


def test_the_simulator_imports_no_service_and_no_database():
    folder = Path(simulator.__file__).parent
    used = set().union(*(platform_imports(path) for path in folder.rglob("*.py")))
    assert used <= ALLOWED_PLATFORM_IMPORTS, used - ALLOWED_PLATFORM_IMPORTS


def test_the_same_seed_draws_the_same_fleet_and_another_seed_another():
    sizes = {"owners": 200, "dealers": 5, "days": 7, "until": date(2026, 12, 1)}
    first, again, other = (build_world(seed=s, **sizes) for s in (3, 3, 4))
    assert [v.vin for v in first.vehicles] == [v.vin for v in again.vehicles]
    assert [o.external_id for o in first.orders] == [o.external_id for o in again.orders]
    assert {v.vin for v in first.vehicles}.isdisjoint(v.vin for v in other.vehicles)


def test_vins_carry_a_valid_check_digit():
    for number in range(50):
        assert vin_problem(make_vin(7, number, 0, "E5", 2025)) is None
