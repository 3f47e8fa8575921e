"""Who may call what, reads and writes: (route, role) pairs outside this table are refused
(403, or 404 where the path names a record the caller may not see). Generated from the merged
OpenAPI by probing each route as each role with records of the caller's own and a valid body
(`test_allow_table`), then reviewed; it is data, so a change of who may call a route shows up
as a change here. A route missing from it fails the test.

"service" is a machine credential (the vehicle gateway, a community connector): it sends
signals, posts and interaction events, and may call nothing else. A dealer group's key
("dealer_group") may do what its dealers' keys may, except the writes that become one
dealer's (DEALERS_OWN_KEY).
"""

STAFF = frozenset({"admin", "cx_agent", "marketing", "quality_engineer"})
EVERYONE = STAFF | {"dealer", "owner"}
ADMIN = frozenset({"admin"})
# Staff who shape surveys, triggers, topics and invitations.
SURVEY_CONFIGURERS = frozenset({"admin", "cx_agent", "marketing"})
JOURNEY_WRITERS = frozenset({"admin", "marketing"})
DEALER_KEY = frozenset({"dealer"})
# A dealer's case work (and customer service's): moving, pausing, assigning, watching.
CASE_WORKERS = frozenset({"admin", "cx_agent", "dealer"})
# The owner, or customer service on their behalf.
OWNER_OR_CX = frozenset({"admin", "cx_agent", "owner"})

WRITES: dict[str, frozenset[str]] = {
    "DELETE /v1/feedback/dealers/{dealer_id}/networks/{network_id}": SURVEY_CONFIGURERS,
    "DELETE /v1/feedback/topics/{key}": SURVEY_CONFIGURERS,
    "DELETE /v1/feedback/triggers/{trigger_id}": SURVEY_CONFIGURERS,
    "DELETE /v1/profile/households/{household_id}/members/{owner_id}": CASE_WORKERS | {"owner"},
    "DELETE /v1/tickets/routing-rules/{rule_id}": ADMIN,
    "DELETE /v1/tickets/sla-policies/{policy_id}": ADMIN,
    "POST /v1/feedback/analysis": STAFF,
    "POST /v1/feedback/dealers/{dealer_id}/networks": SURVEY_CONFIGURERS,
    "POST /v1/feedback/invitations": SURVEY_CONFIGURERS,
    "POST /v1/feedback/invitations/{invitation_id}/response": frozenset({"owner"}),
    "POST /v1/feedback/posts/batches": SURVEY_CONFIGURERS | {"service"},
    "POST /v1/feedback/surveys": SURVEY_CONFIGURERS,
    "POST /v1/feedback/surveys/{key}/versions": SURVEY_CONFIGURERS,
    "POST /v1/feedback/topics": SURVEY_CONFIGURERS,
    "POST /v1/feedback/triggers": SURVEY_CONFIGURERS,
    "POST /v1/gateway/dealer-groups/{group_id}/keys": ADMIN,
    "POST /v1/gateway/dealers/{dealer_id}/keys": ADMIN,
    "POST /v1/gateway/keys/{key_id}/revoke": ADMIN,
    "POST /v1/gateway/keys/{key_id}/rotate": ADMIN,
    "POST /v1/journeys/definitions": JOURNEY_WRITERS,
    "POST /v1/journeys/definitions/from-template": JOURNEY_WRITERS,
    "POST /v1/journeys/definitions/{key}/runs": JOURNEY_WRITERS,
    "POST /v1/journeys/definitions/{key}/versions": JOURNEY_WRITERS,
    "POST /v1/journeys/definitions/{key}/versions/{version}/transitions": JOURNEY_WRITERS,
    "POST /v1/journeys/messages/{message_id}/read": frozenset({"owner"}),
    "POST /v1/journeys/recalls": JOURNEY_WRITERS | {"quality_engineer"},
    "POST /v1/profile/dealer-groups": ADMIN,
    "POST /v1/profile/dealers": ADMIN,
    "POST /v1/profile/events": frozenset({"admin", "cx_agent", "dealer", "owner", "service"}),
    "POST /v1/profile/households": CASE_WORKERS,
    "POST /v1/profile/households/{household_id}/members": CASE_WORKERS,
    "POST /v1/profile/imports": DEALER_KEY,
    "POST /v1/profile/leads": frozenset({"admin", "cx_agent", "dealer", "marketing", "owner"}),
    "POST /v1/profile/orders": DEALER_KEY,
    "POST /v1/profile/orders/{order_id}/status": DEALER_KEY,
    "POST /v1/profile/owners": CASE_WORKERS,
    "POST /v1/profile/owners/{owner_id}/contact-verifications": OWNER_OR_CX | {"dealer"},
    "POST /v1/profile/owners/{owner_id}/erasure-requests": OWNER_OR_CX,
    "POST /v1/profile/owners/{owner_id}/merges": frozenset({"admin", "cx_agent"}),
    "POST /v1/profile/owners/{owner_id}/points/redemptions": OWNER_OR_CX,
    "POST /v1/profile/segments": JOURNEY_WRITERS,
    "POST /v1/profile/segments/preview": JOURNEY_WRITERS,
    "POST /v1/profile/segments/{key}/recompute": JOURNEY_WRITERS,
    "POST /v1/profile/service-visits": DEALER_KEY,
    "POST /v1/profile/vehicles": frozenset({"admin", "dealer"}),
    "POST /v1/profile/vehicles/{vehicle_id}/drivers": frozenset({"admin", "dealer"}),
    "POST /v1/profile/vehicles/{vehicle_id}/ownership": frozenset({"admin", "dealer"}),
    "POST /v1/profile/vehicles/{vehicle_id}/roles/{role_id}/end": frozenset({"admin", "dealer"}),
    "POST /v1/telematics/quality/analyses": frozenset({"admin", "quality_engineer"}),
    "POST /v1/telematics/signals": frozenset({"dealer", "service"}),
    "POST /v1/tickets/queues": ADMIN,
    "POST /v1/tickets/routing-rules": ADMIN,
    "POST /v1/tickets/sla-policies": ADMIN,
    "POST /v1/tickets/tickets": CASE_WORKERS | {"owner"},
    "POST /v1/tickets/tickets/{ticket_id}/assignment": CASE_WORKERS,
    "POST /v1/tickets/tickets/{ticket_id}/comments": CASE_WORKERS | {"owner"},
    "POST /v1/tickets/tickets/{ticket_id}/pause": CASE_WORKERS,
    "POST /v1/tickets/tickets/{ticket_id}/resume": CASE_WORKERS,
    "POST /v1/tickets/tickets/{ticket_id}/transitions": CASE_WORKERS | {"owner"},
    "POST /v1/tickets/tickets/{ticket_id}/watchers": CASE_WORKERS,
    "PUT /v1/feedback/topics/{key}": SURVEY_CONFIGURERS,
    "PUT /v1/feedback/triggers/{trigger_id}": SURVEY_CONFIGURERS,
    "PUT /v1/journeys/contact-policy": JOURNEY_WRITERS,
    "PUT /v1/journeys/message-templates/{key}": JOURNEY_WRITERS,
    "PUT /v1/journeys/preferences": frozenset({"owner"}),
    "PUT /v1/profile/dealers/{dealer_id}/group": ADMIN,
    "PUT /v1/profile/owners/{owner_id}/consents": OWNER_OR_CX | {"dealer"},
    "PUT /v1/profile/segments/{key}": JOURNEY_WRITERS,
    "PUT /v1/telematics/quality/settings": frozenset({"admin", "quality_engineer"}),
    "PUT /v1/telematics/settings/analysis": ADMIN,
    "PUT /v1/tickets/dealers/{dealer_id}/settings": frozenset({"admin", "dealer"}),
    "PUT /v1/tickets/queues/{key}": ADMIN,
    "PUT /v1/tickets/routing-rules/{rule_id}": ADMIN,
    "PUT /v1/tickets/sla-policies/{policy_id}": ADMIN,
}

READS: dict[str, frozenset[str]] = {
    "GET /v1/feedback/analytics/integrity": STAFF,
    "GET /v1/feedback/analytics/scores": STAFF | {"dealer"},
    "GET /v1/feedback/analytics/suppression": STAFF,
    "GET /v1/feedback/analytics/suppression/touchpoints": STAFF,
    "GET /v1/feedback/analytics/topics": STAFF | {"dealer"},
    "GET /v1/feedback/analytics/verbatims": STAFF | {"dealer"},
    "GET /v1/feedback/dealers/{dealer_id}/networks": STAFF,
    "GET /v1/feedback/invitations": EVERYONE,
    "GET /v1/feedback/invitations/{invitation_id}": EVERYONE,
    "GET /v1/feedback/posts": EVERYONE,
    "GET /v1/feedback/posts/{post_id}": EVERYONE,
    "GET /v1/feedback/privacy/owners/{owner_id}/export": frozenset({"admin", "cx_agent", "owner"}),
    "GET /v1/feedback/responses": EVERYONE,
    "GET /v1/feedback/responses/{response_id}": EVERYONE,
    "GET /v1/feedback/surveys": STAFF,
    "GET /v1/feedback/surveys/{key}": STAFF,
    "GET /v1/feedback/topics": STAFF,
    "GET /v1/feedback/triggers": STAFF,
    "GET /v1/gateway/dealer-groups/{group_id}/keys": frozenset({"admin"}),
    "GET /v1/gateway/dealers/{dealer_id}/keys": frozenset({"admin"}),
    "GET /v1/journeys/contact-policy": STAFF,
    "GET /v1/journeys/definitions": STAFF,
    "GET /v1/journeys/definitions/{key}/metrics": STAFF,
    "GET /v1/journeys/definitions/{key}/versions": STAFF,
    "GET /v1/journeys/definitions/{key}/versions/{version}": STAFF,
    "GET /v1/journeys/definitions/{key}/versions/{version}/preview": STAFF,
    "GET /v1/journeys/journey-templates": STAFF,
    "GET /v1/journeys/message-templates": STAFF,
    "GET /v1/journeys/messages": frozenset({"owner"}),
    "GET /v1/journeys/owners/{owner_id}/decisions": STAFF,
    "GET /v1/journeys/privacy/owners/{owner_id}/export": frozenset({"admin", "cx_agent", "owner"}),
    "GET /v1/journeys/recalls/{recall_id}": STAFF,
    "GET /v1/journeys/recalls/{recall_id}/vehicles": STAFF,
    "GET /v1/profile/dealer-groups": EVERYONE,
    "GET /v1/profile/dealer-groups/{group_id}": EVERYONE,
    "GET /v1/profile/dealers": EVERYONE,
    "GET /v1/profile/dealers/{dealer_id}": EVERYONE,
    "GET /v1/profile/event-types": EVERYONE,
    "GET /v1/profile/households/{household_id}": EVERYONE,
    "GET /v1/profile/leads": EVERYONE,
    "GET /v1/profile/leads/{lead_id}": EVERYONE,
    "GET /v1/profile/orders": EVERYONE,
    "GET /v1/profile/orders/{order_id}": EVERYONE,
    "GET /v1/profile/owners": EVERYONE,
    "GET /v1/profile/owners/{owner_id}": EVERYONE,
    "GET /v1/profile/owners/{owner_id}/360": EVERYONE,
    "GET /v1/profile/owners/{owner_id}/audit": frozenset({"admin"}),
    "GET /v1/profile/owners/{owner_id}/consents": EVERYONE,
    "GET /v1/profile/owners/{owner_id}/duplicates": frozenset({"admin", "cx_agent"}),
    "GET /v1/profile/owners/{owner_id}/erasure-requests/{request_id}": OWNER_OR_CX,
    "GET /v1/profile/owners/{owner_id}/events": EVERYONE,
    "GET /v1/profile/owners/{owner_id}/export": frozenset({"admin", "cx_agent", "owner"}),
    "GET /v1/profile/owners/{owner_id}/points": EVERYONE,
    "GET /v1/profile/owners/{owner_id}/referral-code": frozenset({"admin", "cx_agent", "owner"}),
    "GET /v1/profile/owners/{owner_id}/segments": EVERYONE,
    "GET /v1/profile/segment-attributes": EVERYONE,
    "GET /v1/profile/segments": frozenset({"admin", "marketing"}),
    "GET /v1/profile/segments/{key}": frozenset({"admin", "marketing"}),
    "GET /v1/profile/segments/{key}/members": frozenset({"admin", "marketing"}),
    "GET /v1/profile/service-visits": EVERYONE,
    "GET /v1/profile/service-visits/{visit_id}": EVERYONE,
    "GET /v1/profile/vehicles": EVERYONE,
    "GET /v1/profile/vehicles/{vehicle_id}": EVERYONE,
    "GET /v1/profile/vehicles/{vehicle_id}/roles": EVERYONE,
    "GET /v1/telematics/faults": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/telematics/privacy/owners/{owner_id}/export": frozenset(
        {"admin", "cx_agent", "owner"}
    ),
    "GET /v1/telematics/quality/alerts": frozenset({"admin", "quality_engineer"}),
    "GET /v1/telematics/quality/alerts/{alert_id}": frozenset({"admin", "quality_engineer"}),
    "GET /v1/telematics/quality/settings": frozenset({"admin", "quality_engineer"}),
    "GET /v1/telematics/settings/analysis": frozenset({"admin", "cx_agent", "quality_engineer"}),
    "GET /v1/telematics/vehicles": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/telematics/vehicles/{vin}": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/telematics/vehicles/{vin}/charging-sessions": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/telematics/vehicles/{vin}/faults": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/telematics/vehicles/{vin}/service-due": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/telematics/vehicles/{vin}/trips": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/tickets/dealers/{dealer_id}/settings": frozenset(
        {"admin", "cx_agent", "dealer", "quality_engineer"}
    ),
    "GET /v1/tickets/privacy/owners/{owner_id}/export": frozenset({"admin", "cx_agent", "owner"}),
    "GET /v1/tickets/queues": frozenset({"admin", "cx_agent", "quality_engineer"}),
    "GET /v1/tickets/reports/sla": frozenset({"admin", "cx_agent", "dealer", "quality_engineer"}),
    "GET /v1/tickets/routing-rules": frozenset({"admin", "cx_agent", "quality_engineer"}),
    "GET /v1/tickets/sla-policies": frozenset({"admin", "cx_agent", "quality_engineer"}),
    "GET /v1/tickets/tickets": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/tickets/tickets/{ticket_id}": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/tickets/tickets/{ticket_id}/comments": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
    "GET /v1/tickets/tickets/{ticket_id}/timeline": frozenset(
        {"admin", "cx_agent", "dealer", "owner", "quality_engineer"}
    ),
}

ALLOWED = READS | WRITES

# What a dealer's own key records for itself; its group's key may not (it names no one dealer).
DEALERS_OWN_KEY = frozenset(
    {
        "POST /v1/profile/imports",
        "POST /v1/profile/orders",
        "POST /v1/profile/orders/{order_id}/status",
        "POST /v1/profile/owners",
        "POST /v1/profile/service-visits",
        "POST /v1/profile/vehicles",
        "POST /v1/telematics/signals",
    }
)


def allowed(method: str, path: str, role: str) -> bool:
    key = f"{method} {path}"
    if role == "dealer_group":
        return key not in DEALERS_OWN_KEY and allowed(method, path, "dealer")
    return role in ALLOWED.get(key, frozenset())
