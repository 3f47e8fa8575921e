"""Journeys' typed errors."""

from shared.errors import Conflict, NotFound


class JourneyNotFound(NotFound):
    code = "journey_not_found"


class MessageNotFound(NotFound):
    code = "message_not_found"


class RecallNotFound(NotFound):
    code = "recall_not_found"


class OwnerNotFound(NotFound):
    code = "owner_not_found"


class TemplateNotFound(NotFound):
    code = "template_not_found"


class DuplicateJourney(Conflict):
    code = "journey_exists"


class DuplicateRecall(Conflict):
    code = "recall_exists"


class NotStartable(Conflict):
    """A run asked of a journey that is not active, or not started by staff."""

    code = "not_startable"


class NotEditable(Conflict):
    code = "not_editable"
