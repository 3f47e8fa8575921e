"""The internal dashboard: served by the gateway, self-contained, reading only real routes."""

import importlib
import re

import pytest

from gateway.main import DASHBOARD_DIR
from shared.config import SERVICE_PORTS

# The dashboard's own scripts (not the vendored library).
SCRIPTS = {path.name: path.read_text() for path in DASHBOARD_DIR.glob("*.js")}


async def test_the_dashboard_and_its_vendored_chart_library_are_served(gateway):
    page = await gateway.http.get("/dashboard/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'src="vendor/echarts-5.6.0.min.js"' in page.text
    library = await gateway.http.get("/dashboard/vendor/echarts-5.6.0.min.js")
    assert library.status_code == 200 and "javascript" in library.headers["content-type"]
    assert len(library.content) > 500_000


def test_nothing_is_loaded_from_another_origin():
    for path in ("index.html", "app.css", *SCRIPTS):
        text = (DASHBOARD_DIR / path).read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path
        assert "http://" not in text and "https://" not in text, path


def api_paths() -> set[str]:
    """`/v1/...` paths the dashboard calls, with `${…}` parameters as `{}`."""
    found = [
        path
        for script in SCRIPTS.values()
        for path in re.findall(r"api\(`?\"?(/v1/[^`\"]+)", script)
    ]
    return {re.sub(r"\$\{[^}]+\}", "{}", path) for path in found}


@pytest.mark.parametrize("path", sorted(api_paths()))
def test_every_call_the_dashboard_makes_is_a_real_route(path):
    service = path.split("/")[2]
    assert service in SERVICE_PORTS
    app = importlib.import_module(f"services.{service}.main").create_app()
    routes = {re.sub(r"\{[^}]+\}", "{}", route) for route in app.openapi()["paths"]}
    assert path in routes
