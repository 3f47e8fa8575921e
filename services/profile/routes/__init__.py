"""Profile's HTTP API, mounted at /v1/profile: one router per area."""

from fastapi import APIRouter

from services.profile.routes import core, engagement, owner360, segments

router = APIRouter()
router.include_router(core.router)
router.include_router(engagement.router)
router.include_router(segments.router)
router.include_router(owner360.router)
