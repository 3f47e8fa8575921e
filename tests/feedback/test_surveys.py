"""Survey templates through the API: validation, versions, who may change them."""

from tests.feedback.conftest import (
    CSAT_QUESTION,
    MARKETING,
    NPS_QUESTION,
    new_dealer,
    nps_survey,
    unique,
)


async def test_a_survey_is_created_and_changed_by_adding_versions(client_as):
    marketing = client_as(MARKETING)
    key = unique("nps")
    created = await marketing.post("/surveys", json=nps_survey(key))
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1

    changed = nps_survey(key)
    changed["title"] = {"en": "After your delivery", "zh": "交付之后"}
    del changed["key"]
    second = await marketing.post(f"/surveys/{key}/versions", json=changed)
    assert second.status_code == 201 and second.json()["version"] == 2

    latest = (await marketing.get(f"/surveys/{key}")).json()
    first = (await marketing.get(f"/surveys/{key}", params={"version": 1})).json()
    assert latest["title"]["zh"] == "交付之后" and first["title"]["zh"] == "您的交付体验"
    listed = (await marketing.get("/surveys", params={"limit": 200})).json()["items"]
    assert [s["version"] for s in listed if s["key"] == key] == [2]

    again = await marketing.post("/surveys", json=nps_survey(key))
    assert again.status_code == 409 and again.json()["code"] == "survey_key_taken"


async def test_a_survey_that_does_not_fit_its_kind_is_refused_naming_the_field(admin):
    key = unique("bad")
    body = nps_survey(key) | {"questions": [CSAT_QUESTION]}
    response = await admin.post("/surveys", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "invalid_input" and problem["request_id"]
    assert "exactly 1 nps question" in problem["detail"]

    english_only = {**NPS_QUESTION, "text": {"en": "How likely?"}}
    response = await admin.post("/surveys", json=nps_survey(key) | {"questions": [english_only]})
    assert response.status_code == 422
    assert any(e["field"].endswith("text.zh") for e in response.json()["errors"])
    assert (await admin.get(f"/surveys/{key}")).status_code == 404


async def test_dealers_can_neither_read_nor_write_surveys(client_as):
    dealer = client_as(new_dealer())
    assert (await dealer.post("/surveys", json=nps_survey(unique("d")))).status_code == 403
    assert (await dealer.get("/surveys")).status_code == 403


async def test_a_trigger_must_name_an_existing_survey(admin):
    response = await admin.post(
        "/triggers", json={"touchpoint": "test_drive_done", "survey_key": "no_such_survey"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.survey_key"


async def test_a_new_topic_applies_to_the_next_text_without_a_deploy(client_as):
    marketing = client_as(MARKETING)
    text = "The heat pump makes a terrible noise on cold mornings"
    topic = {"key": unique("heat_pump"), "name_en": "Heat pump", "name_zh": "热泵",
             "severity": "high", "keywords_en": ["heat pump"], "keywords_zh": ["热泵"]}  # fmt: skip
    created = await marketing.post("/topics", json=topic)
    assert created.status_code == 201, created.text
    try:
        analysis = (await marketing.post("/analysis", json={"text": text})).json()
        assert analysis["topics"][0] == topic["key"] and analysis["flag"] == "complaint"
        assert (await marketing.post("/topics", json=topic)).status_code == 409
    finally:
        assert (await marketing.delete(f"/topics/{topic['key']}")).status_code == 204
    analysis = (await marketing.post("/analysis", json={"text": text})).json()
    assert topic["key"] not in analysis["topics"]
    seeded = {t["key"] for t in (await marketing.get("/topics")).json()}
    assert {"smart_key", "charging", "infotainment", "ota", "delivery", "pricing"} <= seeded
