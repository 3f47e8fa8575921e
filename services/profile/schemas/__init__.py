"""Profile's API models, one module per area: `XCreate` in, `XRead` out."""

from services.profile.schemas.core import *  # noqa: F403
