"""Feedback's typed errors."""

from typing import ClassVar

from shared.errors import CEMError, Conflict, InvalidInput, NotFound


class SurveyNotFound(NotFound):
    code = "survey_not_found"


class TriggerNotFound(NotFound):
    code = "trigger_not_found"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"


class ResponseNotFound(NotFound):
    code = "response_not_found"


class TopicNotFound(NotFound):
    code = "topic_not_found"


class PostNotFound(NotFound):
    code = "post_not_found"


class DuplicateSurvey(Conflict):
    code = "survey_key_taken"


class DuplicateTrigger(Conflict):
    code = "touchpoint_has_trigger"


class DuplicateTopic(Conflict):
    code = "topic_key_taken"


class AlreadyAnswered(Conflict):
    code = "invitation_already_answered"


class NotYetSent(Conflict):
    code = "invitation_not_sent"


class InvitationExpired(CEMError):
    status: ClassVar[int] = 410
    code: ClassVar[str] = "invitation_expired"
    title: ClassVar[str] = "Gone"


class UnknownReference(InvalidInput):
    """A body names a record that does not exist (a field error, not a 404)."""

    code = "unknown_reference"


class DealerNotFound(NotFound):
    code = "dealer_not_found"


class DealerNetworkNotFound(NotFound):
    code = "dealer_network_not_found"


class DuplicateDealerNetwork(Conflict):
    code = "dealer_network_exists"


class OwnerErased(Conflict):
    code = "owner_erased"
