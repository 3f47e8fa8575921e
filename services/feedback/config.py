from pathlib import Path

from shared.config import ServiceSettings

SERVICE = "feedback"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class FeedbackSettings(ServiceSettings):
    # How long an invitation's link may be answered after it is issued.
    invitation_ttl_days: int = 14
    # Where the answer link points (the gateway's public path); the token is appended.
    survey_link_base: str = "http://127.0.0.1:8000/v1/feedback/public/invitations"
    # How often the invitation worker issues due (delayed) invitations, and how many at once.
    invitation_poll_seconds: float = 5.0
    invitation_batch: int = 100
    # How often a journey may survey an owner when its touchpoint has no trigger to say.
    default_throttle_days: int = 30
    # The most posts one connector batch may carry.
    ingest_max_posts: int = 500
