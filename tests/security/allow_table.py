"""Who may call what: (route, role) pairs outside this table are refused (403, or 404 for a
scoped read). Generated from the merged OpenAPI by probing each route as each role with
records of the caller's own (`test_allow_table`), then reviewed; it is data, so a change of
who may call a route shows up as a change here.

Reads only: writes need bodies whose validation comes before the role check.
"""

STAFF = frozenset({"admin", "cx_agent", "marketing", "quality_engineer"})
EVERYONE = STAFF | {"dealer", "owner"}

ALLOWED: dict[str, frozenset[str]] = {
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
    "GET /v1/profile/owners/{owner_id}/erasure-requests/{request_id}": EVERYONE,
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


def allowed(method: str, path: str, role: str) -> bool:
    return role in ALLOWED.get(f"{method} {path}", frozenset())
