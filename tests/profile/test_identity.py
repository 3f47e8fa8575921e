"""Identity resolution on verified contacts only: each contact records who vouched for it and
when; a verified contact already another owner's (verified) makes a new record that owner,
with a merge record; an unverified one never merges anything."""

import uuid

from sqlalchemy import text

from shared.auth import Caller, CallerKind, StaffRole
from tests.profile.conftest import (
    create_owner,
    dms_batch,
    events_after,
    last_seq,
    owner_caller,
)

AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))
MERGED = "cem.profile.owner.merged.v1"


def new_phone() -> tuple[str, str]:
    """One number in two spellings, as a DMS and an app would write it."""
    digits = f"139{uuid.uuid4().int % 10**8:08d}"
    return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"+86{digits}"


async def register(client, **fields) -> dict:
    body = {"full_name": "Zhou Min"} | fields
    response = await client.post("/owners", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def merge_records(app, merged_id: str) -> list:
    async with app.state.database.transaction() as session:
        rows = await session.execute(
            text("SELECT survivor_id, matched_on, merged_by, reason FROM owner_merges "
                 "WHERE merged_id = :id"), {"id": merged_id},
        )  # fmt: skip
        return [tuple(row) for row in rows]


async def test_each_contact_records_who_verified_it(client_as, dealer_a):
    dealer = client_as(dealer_a)
    phone, _ = new_phone()
    owner = await register(dealer, email=f"{uuid.uuid4().hex[:8]}@example.com", phone=phone,
                           email_verified=True)  # fmt: skip
    assert (owner["email_verified_by"], owner["phone_verified_by"]) == ("dms", None)
    assert owner["email_verified_at"] and owner["phone_verified_at"] is None

    app = client_as(owner_caller(owner["id"]))
    path = f"/owners/{owner['id']}/contact-verifications"
    wrong = await app.post(path, json={"kind": "phone", "value": "+86 100 0000 0000"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.value"
    verified = await app.post(path, json={"kind": "phone", "value": phone.replace(" ", "")})
    assert verified.status_code == 200, verified.text
    assert verified.json()["phone_verified_by"] == "app"
    stranger = client_as(owner_caller(str(uuid.uuid4())))
    assert (await stranger.post(path, json={"kind": "phone", "value": phone})).status_code == 404


async def test_a_flag_for_a_contact_not_given_names_the_field(client_as, dealer_a):
    response = await client_as(dealer_a).post(
        "/owners", json={"full_name": "Zhou Min", "phone_verified": True}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.phone_verified"


async def test_a_verified_contact_already_known_makes_the_new_record_that_owner(
    client_as, dealer_a, profile_app
):
    dms_spelling, app_spelling = new_phone()
    known = await register(client_as(dealer_a), phone=dms_spelling, phone_verified=True)
    before = await last_seq(profile_app)
    # The app's sign-up, after a one-time code to the same number.
    signed_up = await register(client_as(AGENT), full_name="Min Zhou", phone=app_spelling,
                               phone_verified=True)  # fmt: skip

    assert signed_up["id"] == known["id"]
    [merged] = await events_after(profile_app, before, MERGED)
    assert merged["survivor_owner_id"] == known["id"] and merged["matched_on"] == ["phone"]
    [(survivor, matched, by, reason)] = await merge_records(profile_app, merged["merged_owner_id"])
    assert (str(survivor), matched, by) == (known["id"], ["phone"], "system:staff")
    assert "verified phone" in reason
    # The dealer still sees one person, the one it registered.
    listed = (await client_as(dealer_a).get("/owners")).json()["items"]
    assert [owner["id"] for owner in listed if owner["phone"] == dms_spelling] == [known["id"]]


async def test_an_unverified_contact_merges_nothing(client_as, dealer_a, profile_app):
    dms_spelling, app_spelling = new_phone()
    known = await register(client_as(dealer_a), phone=dms_spelling, phone_verified=True)
    agent = client_as(AGENT)
    before = await last_seq(profile_app)
    unverified = await register(agent, phone=app_spelling)

    assert unverified["id"] != known["id"]
    assert await events_after(profile_app, before, MERGED) == []
    assert (await agent.get(f"/owners/{unverified['id']}/duplicates")).json() == []
    refused = await agent.post(
        f"/owners/{known['id']}/merges",
        json={"merged_owner_id": unverified["id"], "reason": "same number"},
    )
    assert refused.status_code == 409 and "verified" in refused.json()["detail"]


async def test_two_verified_candidates_are_left_to_customer_service(client_as, dealer_a):
    spelling, other_spelling = new_phone()
    dealer, agent = client_as(dealer_a), client_as(AGENT)
    first = await register(dealer, phone=spelling, phone_verified=True)
    second = await register(dealer, phone=other_spelling)  # unverified: a separate record
    verified = await client_as(owner_caller(second["id"])).post(
        f"/owners/{second['id']}/contact-verifications",
        json={"kind": "phone", "value": other_spelling},
    )
    assert verified.status_code == 200  # vouching merges nothing by itself

    third = await register(agent, phone=spelling, phone_verified=True)
    assert third["id"] not in (first["id"], second["id"])
    candidates = (await agent.get(f"/owners/{third['id']}/duplicates")).json()
    assert sorted(c["owner_id"] for c in candidates) == sorted([first["id"], second["id"]])
    assert all(c["matched_on"] == ["phone"] for c in candidates)


async def test_a_changed_contact_is_unverified_again(client_as, dealer_a):
    dealer = client_as(dealer_a)
    batch = dms_batch(owner_ref=f"V{uuid.uuid4().hex[:6]}")
    assert (await dealer.post("/imports", json=batch)).status_code == 200
    owner_id = (await dealer.get("/owners")).json()["items"][-1]["id"]
    email = batch["owners"][0]["email"]
    verified = await dealer.post(
        f"/owners/{owner_id}/contact-verifications", json={"kind": "email", "value": email}
    )
    assert verified.json()["email_verified_by"] == "dms"

    batch["owners"][0]["email"] = f"{uuid.uuid4().hex[:8]}@example.com"
    assert (await dealer.post("/imports", json=batch)).status_code == 200
    owner = (await dealer.get(f"/owners/{owner_id}")).json()
    assert owner["email"] == batch["owners"][0]["email"]
    assert (owner["email_verified_by"], owner["email_verified_at"]) == (None, None)
    assert owner["phone_verified_by"] is None  # never vouched for


async def test_owners_vouch_only_for_their_own_and_service_callers_not_at_all(client_as):
    owner_id = await create_owner(client_as(AGENT), phone="+86 137 0000 1111")
    service = Caller(kind=CallerKind.SERVICE, subject="vehicle-gateway")
    response = await client_as(service).post(
        f"/owners/{owner_id}/contact-verifications",
        json={"kind": "phone", "value": "+86 137 0000 1111"},
    )
    assert response.status_code == 403


async def test_a_dms_import_of_a_known_person_makes_its_record_that_person(
    client_as, dealer_a, dealer_b, profile_app
):
    known_spelling, dms_spelling = new_phone()
    known = await register(client_as(dealer_a), phone=known_spelling, phone_verified=True)
    batch = dms_batch(owner_ref=f"K{uuid.uuid4().hex[:6]}")
    batch["owners"][0].update(phone=dms_spelling, phone_verified=True)
    importer = client_as(dealer_b)
    before = await last_seq(profile_app)
    first = await importer.post("/imports", json=batch)
    assert first.status_code == 200, first.text
    assert first.json()["owners"]["created"] == 1

    [merged] = await events_after(profile_app, before, MERGED)
    assert (merged["survivor_owner_id"], merged["matched_on"]) == (known["id"], ["phone"])
    vehicle = (await importer.get("/vehicles")).json()["items"][0]
    assert vehicle["owner_id"] == known["id"]  # the batch's records follow the person
    assert (await importer.get(f"/owners/{known['id']}")).status_code == 200

    # Sending the batch again finds the person by the dealer's own id: nothing new.
    again = await importer.post("/imports", json=batch)
    assert again.json()["owners"]["created"] == 0
    assert len(await events_after(profile_app, before, MERGED)) == 1


async def test_an_import_verifies_what_the_dealers_system_vouches_for(client_as, dealer_a):
    dealer = client_as(dealer_a)
    batch = dms_batch(owner_ref=f"W{uuid.uuid4().hex[:6]}")
    batch["owners"][0]["email_verified"] = True
    assert (await dealer.post("/imports", json=batch)).status_code == 200
    owner = (await dealer.get("/owners")).json()["items"][-1]
    assert (owner["email_verified_by"], owner["phone_verified_by"]) == ("dms", None)
    resent = await dealer.post("/imports", json=batch)
    assert resent.json()["owners"] == {"created": 0, "updated": 0, "unchanged": 1}
    batch["owners"][0].pop("email")
    missing = await dealer.post("/imports", json=batch)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.owners.0.email_verified"


async def verified_pair(client_as, dealer_a) -> tuple[str, str]:
    """Two records of one person: the dealer's and the app's, the same phone verified on each
    (the app's own verification merges nothing by itself)."""
    dms_spelling, app_spelling = new_phone()
    dealers = await register(client_as(dealer_a), phone=dms_spelling, phone_verified=True)
    apps = await register(client_as(AGENT), phone=app_spelling)
    verified = await client_as(owner_caller(apps["id"])).post(
        f"/owners/{apps['id']}/contact-verifications", json={"kind": "phone", "value": app_spelling}
    )
    assert verified.status_code == 200, verified.text
    return dealers["id"], apps["id"]


async def test_the_survivor_of_a_merge_takes_the_duplicates_place_in_its_household(
    client_as, dealer_a, profile_app
):
    """Journeys cap contacts per household: a person merged out of their household would be
    contacted as if they lived alone."""
    dealer, agent = client_as(dealer_a), client_as(AGENT)
    in_household, survivor = await verified_pair(client_as, dealer_a)
    partner = await create_owner(dealer)
    household = (
        await dealer.post(
            "/households", json={"name": "Zhou", "owner_ids": [partner, in_household]}
        )
    ).json()
    before = await last_seq(profile_app)
    merged = await agent.post(
        f"/owners/{survivor}/merges",
        json={"merged_owner_id": in_household, "reason": "same verified phone"},
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["moved"]["household_members"] == 1

    members = (await dealer.get(f"/households/{household['id']}")).json()["member_ids"]
    assert sorted(members) == sorted([partner, survivor])
    assert (await agent.get(f"/owners/{survivor}/360")).json()["household_id"] == household["id"]
    changes = await events_after(profile_app, before, "cem.profile.household.membership_changed.v1")
    assert [(c["household_id"], c["owner_id"], c["joined"]) for c in changes] == [
        (household["id"], in_household, False),
        (household["id"], survivor, True),
    ]


async def test_a_survivor_with_a_household_of_its_own_keeps_it(client_as, dealer_a):
    agent = client_as(AGENT)  # customer service sees both records
    in_household, survivor = await verified_pair(client_as, dealer_a)
    households = []
    for name, member in (("A", in_household), ("B", survivor)):
        created = await agent.post("/households", json={"name": name, "owner_ids": [member]})
        assert created.status_code == 201, created.text
        households.append(created.json()["id"])
    merged = await agent.post(
        f"/owners/{survivor}/merges",
        json={"merged_owner_id": in_household, "reason": "same verified phone"},
    )
    assert merged.json()["moved"]["household_members"] == 0
    assert (await agent.get(f"/households/{households[1]}")).json()["member_ids"] == [survivor]
    assert (await agent.get(f"/owners/{survivor}/360")).json()["household_id"] == households[1]
    assert (await agent.get(f"/households/{households[0]}")).status_code == 404  # no one left
