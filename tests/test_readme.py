"""The README stays true: every service and every event a service can publish is in it, and
every make target it tells the reader to run exists."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import shared.contracts
from shared.config import SERVICE_PORTS
from shared.messaging.envelope import Event

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def published_subjects() -> set[str]:
    subjects = set()
    for module_info in pkgutil.iter_modules(shared.contracts.__path__):
        module = importlib.import_module(f"shared.contracts.{module_info.name}")
        for _, contract in inspect.getmembers(module, inspect.isclass):
            if issubclass(contract, Event) and "event_type" in contract.__dict__:
                subjects.add(contract.event_type.subject)
    return subjects


def test_every_event_is_in_the_catalogue():
    assert len(published_subjects()) > 30
    missing = sorted(s for s in published_subjects() if f"`{s}`" not in README)
    assert missing == []


def test_every_service_is_in_the_service_map():
    missing = [name for name in SERVICE_PORTS if f"| {name} | `/v1/{name}/...`" not in README]
    assert missing == []


def test_every_make_target_named_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"^make ([a-z-]+)", README, flags=re.MULTILINE))
    assert named and named <= targets
