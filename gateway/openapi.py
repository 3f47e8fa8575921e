"""One OpenAPI document for the whole platform, merged from every service's own.

Each service publishes its paths under `/v1/<service>`, so paths never collide; a schema
name two services use for different shapes is prefixed with the service's name.
"""

import asyncio
import copy
import time

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

REFRESH_SECONDS = 60.0
# A service builds its document on the first request: seconds of CPU on a loaded machine.
FETCH_SECONDS = 30.0
SCHEMA_REF = "#/components/schemas/"
# In `info`: the services whose paths are not in the document (they did not answer).
MISSING = "x-cem-missing-services"


class MergedOpenApi:
    def __init__(self, own_app: FastAPI, upstreams: dict[str, str]) -> None:
        self.own_app = own_app
        self.upstreams = upstreams
        self._cached: dict | None = None
        self._built_at = 0.0

    async def document(self) -> dict:
        """Rebuilt at most once a minute, and sooner while a service was missing."""
        if self._cached is None or time.monotonic() - self._built_at > REFRESH_SECONDS:
            documents = await self._fetch_all()
            self._cached = merge(self.own_app.openapi(), documents)
            missing = sorted(set(self.upstreams) - set(documents))
            if missing:
                self._cached["info"][MISSING] = missing
            self._built_at = 0.0 if missing else time.monotonic()
        return self._cached

    async def _fetch_all(self) -> dict[str, dict]:
        """Every service's document that could be had, asked of all at once."""
        async with httpx.AsyncClient(timeout=FETCH_SECONDS) as client:
            answers = await asyncio.gather(
                *(client.get(f"{url}/openapi.json") for url in self.upstreams.values()),
                return_exceptions=True,
            )
        return {
            service: answer.json()
            for service, answer in zip(self.upstreams, answers, strict=True)
            if isinstance(answer, httpx.Response) and answer.status_code == 200
        }


def merge(gateway_document: dict, service_documents: dict[str, dict]) -> dict:
    merged = copy.deepcopy(gateway_document)
    merged["info"] = {"title": "CEM platform API", "version": merged["info"]["version"]}
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for service, document in sorted(service_documents.items()):
        document = _namespaced(service, document, schemas)
        merged["paths"].update(document.get("paths", {}))
        schemas.update(document.get("components", {}).get("schemas", {}))
    merged["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    merged["security"] = [{"bearer": []}, {"apiKey": []}]
    return merged


def _namespaced(service: str, document: dict, taken: dict) -> dict:
    """Renames the service's schemas that clash with different ones already merged."""
    own = document.get("components", {}).get("schemas", {})
    clashes = {name for name, schema in own.items() if name in taken and taken[name] != schema}
    if not clashes:
        return document
    renamed = {name: f"{service}_{name}" for name in clashes}
    document = _rewrite_refs(document, renamed)
    schemas = document["components"]["schemas"]
    for old, new in renamed.items():
        schemas[new] = schemas.pop(old)
    return document


def _rewrite_refs(node, renamed: dict[str, str]):
    if isinstance(node, dict):
        return {
            key: (
                SCHEMA_REF
                + renamed.get(value.removeprefix(SCHEMA_REF), value.removeprefix(SCHEMA_REF))
                if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF)
                else _rewrite_refs(value, renamed)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, renamed) for item in node]
    return node


def docs_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(await request.app.state.merged_openapi.document())

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="CEM platform API")

    return router
