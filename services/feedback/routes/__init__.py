"""Feedback's HTTP API, mounted at /v1/feedback: surveys, invitations, answers, posts and
topics (`core`), analytics and integrity (`analytics`), the owner's privacy (`privacy`).
`public_router` (`/v1/feedback/public/...`) is the only part that needs no caller."""

from fastapi import APIRouter

from services.feedback.routes import analytics, core, privacy

router = APIRouter()
router.include_router(core.router)
router.include_router(analytics.router)
router.include_router(privacy.router)
public_router = core.public_router
