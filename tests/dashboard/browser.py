"""The dashboard in a real browser: Debian's Chromium driven by Playwright, and what a page shows
read back from the data-* attributes the dashboard puts on its tables, cards and charts.

Figures are compared as shown: the API's value formatted as the page formats it (JavaScript's
`toFixed` rounds half away from zero, unlike Python's `format`)."""

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from playwright.async_api import BrowserContext, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
# Headless on a closed network: no sandbox (root), no GPU, nothing that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_MS = 60_000
MISSING = "—"


async def launch(playwright: Playwright, profile: Path) -> BrowserContext:
    """Chromium with a fresh profile; each tab (page) keeps its own signed-in credential."""
    if not shutil.which(CHROMIUM):
        raise RuntimeError(
            f"{CHROMIUM} is missing: `make test` installs it (tests/dashboard/install-browser.sh)"
        )
    return await playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )


def fixed(value: float | None, digits: int = 1) -> str:
    """As the page's `fixed`: JavaScript's toFixed on the same double."""
    if value is None:
        return MISSING
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def duration(hours: float | None) -> str:
    """As the page's `duration`: minutes under an hour, days past two."""
    if hours is None:
        return MISSING
    if hours < 1:
        minutes = Decimal(hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return f"{minutes} min"
    return f"{fixed(hours)} h" if hours < 48 else f"{fixed(hours / 24)} d"


def percent(rate: float | None) -> str:
    return MISSING if rate is None else f"{fixed(rate * 100)}%"


def shown(value: object) -> str:
    return MISSING if value is None else str(value)


def number(value: float) -> str:
    """As JavaScript's String(number): whole numbers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_ROWS = """(name) => [...document.querySelectorAll(`table[data-table="${name}"] tbody tr`)]
  .map((row) => ({
    key: row.dataset.key,
    ...Object.fromEntries([...row.cells].map((cell) => [cell.dataset.field, cell.textContent])),
  }))"""
_CHART = """(name) => {
  const holder = document.querySelector(`[data-chart="${name}"]`);
  const chart = holder && echarts.getInstanceByDom(holder);
  if (!chart) return null;
  return chart.getOption().series.map((s) => ({ name: s.name ?? null, data: s.data }));
}"""


class Dashboard:
    """One signed-in tab of the dashboard."""

    def __init__(self, page: Page, base_url: str, screenshots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.screenshots = screenshots

    async def sign_in(self, credential: str) -> None:
        await self.page.goto(f"{self.base_url}/dashboard/")
        await self.page.fill("#credential", credential)
        await self.page.click("#login-form button[type=submit]")
        await self._ready()

    async def open(self, address: str) -> None:
        """Shows `#address` (e.g. `feedback/by=model`) and waits for its figures; loading it
        again when it is already shown reads the API afresh."""
        if await self.page.evaluate("() => location.hash.slice(1)") == address:
            await self.page.reload()
        else:
            await self.page.evaluate(
                "(address) => { document.getElementById('page').dataset.state = 'leaving';"
                " location.hash = address; }",
                address,
            )
        await self._ready(address.split("/")[0])

    async def _ready(self, name: str | None = None) -> None:
        page = f'[data-page="{name}"]' if name else ""
        await self.page.wait_for_selector(
            f"main{page}[data-state=ready], main[data-state=error]", timeout=READY_MS
        )

    async def state(self) -> str:
        return await self.page.get_attribute("main", "data-state") or ""

    async def text(self, selector: str = "main") -> str:
        return await self.page.inner_text(selector)

    async def rows(self, table: str) -> dict[str, dict[str, str]]:
        """The rows of a table, by their data-key, as field -> text shown."""
        found = await self.page.evaluate(_ROWS, table)
        return {row.pop("key"): row for row in found}

    async def figure(self, name: str) -> str:
        return await self.page.inner_text(f'[data-figure="{name}"] .value')

    async def chart(self, name: str) -> list[dict]:
        """The series a chart draws (once ECharts has drawn it)."""
        await self.page.wait_for_function(_CHART, arg=name, timeout=READY_MS)
        return await self.page.evaluate(_CHART, name)

    async def nav(self) -> list[str]:
        """The pages the header offers."""
        return await self.page.eval_on_selector_all(
            "header nav a:not([hidden])", "(links) => links.map((a) => a.hash.slice(1))"
        )

    async def screenshot(self, name: str) -> Path:
        """The whole page, once every chart has finished drawing."""
        await self.page.wait_for_function(
            "() => !document.querySelector('[data-chart]:not([data-drawn])')", timeout=READY_MS
        )
        path = self.screenshots / f"{name}.png"
        await self.page.screenshot(path=path, full_page=True)
        print(f"screenshot: {path}")
        return path


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)[:2000]
