"""What a dealer's request must check at every dealer, though row-level security lets the
request itself see only its own dealer's cases (shared.database.every_dealer)."""

from tests.tickets.conftest import new_dealer, unique


async def test_a_source_another_dealers_case_came_from_is_refused_not_opened_twice(client_as):
    source = {"type": "dms_lead", "id": unique("L")}
    fields = {"kind": "lead_follow_up", "subject": "Lead", "source": source}
    first = await client_as(new_dealer()).open(**fields)
    other = client_as(new_dealer())
    refused = await other.post("/tickets", json={"description": "Call back", **fields})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "body.source"
    assert (await other.get("/tickets")).json()["total"] == 0
    assert (await other.get(f"/tickets/{first['id']}")).status_code == 404
