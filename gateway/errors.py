from shared.errors import Conflict, NotFound


class DealerNotKnown(NotFound):
    code = "dealer_not_found"


class DealerGroupNotKnown(NotFound):
    code = "dealer_group_not_found"


class KeyNotFound(NotFound):
    code = "api_key_not_found"


class TooManyActiveKeys(Conflict):
    code = "too_many_active_keys"


class KeyAlreadyRevoked(Conflict):
    code = "api_key_revoked"
