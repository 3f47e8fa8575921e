"""Invitations: single-use expiring tokens, the public link and the app, one answer each."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

from tests.feedback.conftest import (
    ADMIN,
    events,
    invite,
    last_seq,
    new_dealer,
    new_owner,
    scalar,
    token_of,
)


async def test_the_link_opens_the_survey_without_a_caller_and_takes_one_answer(
    feedback_app, admin, anonymous
):
    owner = new_owner()
    invitation = await invite(admin, owner)
    assert invitation["status"] == "sent"
    token = await token_of(feedback_app, invitation["id"])

    survey = await anonymous.get(f"/public/invitations/{token}")
    assert survey.status_code == 200, survey.text
    assert [q["id"] for q in survey.json()["questions"]] == ["recommend", "reason"]
    assert survey.json()["questions"][0]["scale"] == [0, 10]

    answer = {"answers": {"recommend": 9, "reason": "Quick and friendly"}}
    first = await anonymous.post(f"/public/invitations/{token}/response", json=answer)
    assert first.status_code == 201, first.text
    assert first.json()["score"] == 9 and first.json()["band"] == "promoter"
    assert first.json()["channel"] == "link"

    second = await anonymous.post(f"/public/invitations/{token}/response", json=answer)
    assert second.status_code == 409
    assert second.json()["code"] == "invitation_already_answered"
    stored = await scalar(
        feedback_app,
        "SELECT count(*) FROM responses WHERE invitation_id = :id",
        id=invitation["id"],
    )
    assert stored == 1


async def test_only_a_hash_of_the_token_is_stored(feedback_app, admin):
    invitation = await invite(admin, new_owner())
    token = await token_of(feedback_app, invitation["id"])
    stored = await scalar(
        feedback_app, "SELECT token_hash FROM invitations WHERE id = :id", id=invitation["id"]
    )
    assert stored and token not in stored and len(token) >= 40
    leaked = await scalar(
        feedback_app,
        "SELECT count(*) FROM invitations WHERE row_to_json(invitations)::text LIKE :t",
        t=f"%{token}%",
    )
    assert leaked == 0


async def test_an_expired_link_is_refused_and_changes_nothing(
    feedback_app, admin, anonymous, clock
):
    invitation = await invite(admin, new_owner())
    token = await token_of(feedback_app, invitation["id"])
    clock.advance(days=14, seconds=1)

    response = await anonymous.post(
        f"/public/invitations/{token}/response", json={"answers": {"recommend": 3}}
    )
    assert response.status_code == 410 and response.json()["code"] == "invitation_expired"
    assert (await anonymous.get(f"/public/invitations/{token}")).status_code == 410
    assert (await admin.get(f"/invitations/{invitation['id']}")).json()["status"] == "sent"


async def test_an_unknown_token_is_not_found(anonymous):
    response = await anonymous.get("/public/invitations/not-a-real-token")
    assert response.status_code == 404 and response.json()["code"] == "invitation_not_found"


async def test_everything_but_the_public_link_needs_a_caller(anonymous):
    response = await anonymous.get("/invitations")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_owner_answers_in_the_app_and_nobody_else_can(feedback_app, admin, client_as):
    owner, stranger = new_owner(), new_owner()
    invitation = await invite(admin, owner)
    answer = {"answers": {"recommend": 10}}
    path = f"/invitations/{invitation['id']}/response"

    assert (await client_as(stranger).post(path, json=answer)).status_code == 404
    assert (await client_as(ADMIN).post(path, json=answer)).status_code == 404
    mine = await client_as(owner).get("/invitations")
    assert [item["id"] for item in mine.json()["items"]] == [invitation["id"]]

    response = await client_as(owner).post(path, json=answer, headers={"x-device-id": "phone-1"})
    assert response.status_code == 201 and response.json()["channel"] == "app"
    again = await client_as(owner).post(path, json=answer)
    assert again.status_code == 409


async def test_a_bad_answer_names_the_field_and_stores_nothing(feedback_app, admin, anonymous):
    invitation = await invite(admin, new_owner())
    token = await token_of(feedback_app, invitation["id"])
    response = await anonymous.post(
        f"/public/invitations/{token}/response", json={"answers": {"recommend": 11}}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body.answers.recommend", "message": "must be between 0 and 10"}
    ]
    assert (await admin.get(f"/invitations/{invitation['id']}")).json()["status"] == "sent"


async def test_dealers_cannot_send_invitations(client_as):
    dealer = client_as(new_dealer())
    body = {"survey_key": "delivery_nps", "owner_id": str(new_owner().owner_id),
            "touchpoint": "call_centre_contact"}  # fmt: skip
    assert (await dealer.post("/invitations", json=body)).status_code == 403


async def test_answers_are_stored_with_their_context_and_published_once(
    feedback_app, admin, anonymous, client_as
):
    owner, dealer = new_owner(), new_dealer()
    invitation = await invite(admin, owner, dealer_id=str(dealer.dealer_id))
    token = await token_of(feedback_app, invitation["id"])
    since = await last_seq(feedback_app)
    response = await anonymous.post(
        f"/public/invitations/{token}/response",
        json={"answers": {"recommend": 2, "reason": "智能钥匙又失灵了，售后一直推诿，太失望了"}},
        headers={"user-agent": "Mozilla/5.0 test", "x-forwarded-for": "203.0.113.7"},
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["dealer_id"] == str(dealer.dealer_id)
    assert answer["touchpoint"] == "call_centre_contact"
    assert answer["lifecycle_stage"] == "usage_and_service"
    assert answer["language"] == "zh" and answer["topics"][0] == "smart_key"

    staff_view = (await admin.get(f"/responses/{answer['id']}")).json()
    assert len(staff_view["network_hash"]) == 64 and "203.0.113.7" not in staff_view["network_hash"]
    dealer_view = (await client_as(dealer).get(f"/responses/{answer['id']}")).json()
    assert dealer_view["score"] == 2 and "network_hash" not in dealer_view
    assert (await client_as(new_dealer()).get(f"/responses/{answer['id']}")).status_code == 404

    submitted = await events(feedback_app, "cem.feedback.response.submitted.v1", since=since)
    detractors = await events(feedback_app, "cem.feedback.detractor.detected.v1", since=since)
    assert [e["data"]["response_id"] for e in submitted] == [answer["id"]]
    assert [e["data"]["response_id"] for e in detractors] == [answer["id"]]
    complaint = detractors[0]["data"]
    assert complaint["owner_id"] == str(owner.owner_id)
    assert complaint["dealer_id"] == str(dealer.dealer_id)
    assert complaint["score"] == 2 and complaint["topics"][0] == "smart_key"
    assert complaint["severity"] == "high" and "智能钥匙" in complaint["comment"]


async def test_a_promoter_raises_no_complaint(feedback_app, admin, anonymous):
    invitation = await invite(admin, new_owner())
    token = await token_of(feedback_app, invitation["id"])
    since = await last_seq(feedback_app)
    await anonymous.post(
        f"/public/invitations/{token}/response", json={"answers": {"recommend": 10}}
    )
    assert len(await events(feedback_app, "cem.feedback.response.submitted.v1", since=since)) == 1
    assert await events(feedback_app, "cem.feedback.detractor.detected.v1", since=since) == []
