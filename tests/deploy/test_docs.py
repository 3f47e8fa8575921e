"""The operator runbook names every setting and metric the processes have."""

import importlib
import re

import prometheus_client
import pytest

from shared.config import CommonSettings
from tests.deploy.conftest import ROOT
from tests.deploy.test_manifests import SERVICES, environment_names, settings_class

OPERATIONS = ROOT / "docs" / "operations.md"
APPS = ("gateway.main", *(f"services.{name}.main" for name in SERVICES))


def documented() -> set[str]:
    return set(re.findall(r"`(CEM_[A-Z0-9_]+)`", OPERATIONS.read_text()))


@pytest.mark.parametrize("component", ["common", "gateway", *SERVICES])
def test_every_setting_is_in_the_configuration_reference(component):
    settings = CommonSettings if component == "common" else settings_class(component)
    missing = sorted(environment_names(settings) - documented())
    assert not missing, f"add these to docs/operations.md, 'Configuration reference': {missing}"


def test_the_reference_names_no_setting_that_does_not_exist():
    known = environment_names(CommonSettings).union(
        *(environment_names(settings_class(c)) for c in ("gateway", *SERVICES))
    )
    assert documented() - known == set()


def test_every_metric_is_in_the_runbook():
    for module in APPS:
        importlib.import_module(module)  # registers the module-level metrics
    names = {
        metric.name
        for metric in prometheus_client.REGISTRY.collect()
        if metric.name.startswith("cem_")
    }
    assert names, "the CEM metrics should be registered"
    text = OPERATIONS.read_text()
    missing = sorted(n for n in names if f"`{n}`" not in text and f"`{n}_total`" not in text)
    assert not missing, f"add these to docs/operations.md, 'Metrics': {missing}"
