"""The owners' voice: community posts and reviews through the community connector, leads and
test drives, and answers to the surveys the platform sent them."""

import asyncio
import random

from simulator import catalogue as c
from simulator.context import Run, chunks, run_all
from simulator.world import Lead, Owner, Post

# Feedback analyses each post's text: 100 took 14-45 s on a busy two-core machine.
POSTS_PER_BATCH = 40
COMMUNITY_CONNECTOR = "community-connector"
ANSWER_SHARE = 0.55


def _post(run: Run, post: Post) -> dict:
    return {
        "source": post.source,
        "source_id": post.source_id,
        "title": post.text.title,
        "body": post.text.body,
        "owner_id": run.owner_ids[post.owner.index],
        "vin": post.vin,
        "rating": post.rating,
        "likes": post.likes,
        "comments": post.comments,
        "shares": post.shares,
        "published_at": post.published_at.isoformat(),
    }


async def posts(run: Run) -> None:
    stage = "Community posts and reviews"
    if not await run.offers(stage, "POST /v1/feedback/posts/batches"):
        return
    items = [_post(run, post) for post in run.world.posts if post.owner.index in run.owner_ids]
    batches = chunks(items, POSTS_PER_BATCH)
    task = run.stage(stage, total=len(batches))
    headers = run.credentials.service(COMMUNITY_CONNECTOR)

    async def send(batch: list[dict]) -> None:
        result = await run.gateway.post("/v1/feedback/posts/batches", {"posts": batch},
                                        headers=headers)  # fmt: skip
        run.tally.add("posts", **{k: v for k, v in result.json().items() if k != "post_ids"})
        run.progress.advance(task)

    await run_all(batches, send, workers=2)


async def leads(run: Run) -> None:
    """Test drives come from the owner's app, leads from the showroom's DMS; an owner who
    already has one of that kind with the dealer is not asked again."""
    stage = "Leads and test drives"
    if not await run.offers(stage, "POST /v1/profile/leads", "GET /v1/profile/leads"):
        return
    existing: set[tuple[str, str, str]] = set()
    for dealer_id in run.dealer_ids.values():
        headers = run.credentials.dealer(dealer_id)
        async for lead in run.gateway.items("/v1/profile/leads", headers=headers):
            existing.add((lead["owner_id"], lead["dealer_id"], lead["kind"]))
    wanted = [lead for lead in run.world.leads if lead.owner.index in run.owner_ids]
    task = run.stage(stage, total=len(wanted))

    async def create(lead: Lead) -> None:
        owner_id = run.owner_ids[lead.owner.index]
        dealer_id = run.dealer_ids[lead.owner.dealer.index]
        if (owner_id, dealer_id, lead.kind) in existing:
            run.tally.add("leads", unchanged=1)
        else:
            await _create_lead(run, lead, owner_id, dealer_id)
            run.tally.add("leads", **{f"created {lead.kind.replace('_', ' ')}s": 1})
        run.progress.advance(task)

    await run_all(wanted, create, workers=16)


async def _create_lead(run: Run, lead: Lead, owner_id: str, dealer_id: str) -> None:
    body: dict = {"kind": lead.kind, "model": lead.model}
    if lead.kind == "test_drive":
        body |= {"dealer_id": dealer_id, "channel": "app"}
        body["requested_slot"] = lead.requested_slot.isoformat() if lead.requested_slot else None
        headers = run.credentials.owner(owner_id)
    else:
        body |= {"owner_id": owner_id, "channel": "showroom"}
        headers = run.credentials.dealer(dealer_id)
    await run.gateway.post("/v1/profile/leads", body, headers=headers)


async def _settled_invitations(run: Run) -> int:
    """Invitations follow the imported deliveries and visits through events: waits until
    their number stops growing."""
    admin = run.credentials.admin()
    deadline = asyncio.get_running_loop().time() + run.settle_seconds
    last, steady = -1, 0
    # Three quiet seconds once invitations flow; ten while none has arrived yet.
    while asyncio.get_running_loop().time() < deadline and steady < (3 if last else 10):
        total = await run.gateway.total("/v1/feedback/invitations", headers=admin)
        steady = steady + 1 if total == last else 0
        last = total
        await asyncio.sleep(1.0)
    return last


async def survey_answers(run: Run) -> None:
    stage = "Survey answers"
    if not await run.offers(
        stage,
        "GET /v1/feedback/invitations",
        "POST /v1/feedback/invitations/{invitation_id}/response",
    ):
        return
    await _settled_invitations(run)
    admin = run.credentials.admin()
    questions = {
        survey["id"]: survey["questions"]
        async for survey in run.gateway.items("/v1/feedback/surveys", headers=admin)
    }
    owners = {owner_id: index for index, owner_id in run.owner_ids.items()}
    pending = [
        invitation
        async for invitation in run.gateway.items(
            "/v1/feedback/invitations", headers=admin, params={"status": "sent"}
        )
        if invitation["owner_id"] in owners
    ]
    task = run.stage(stage, total=len(pending))

    async def answer(invitation: dict) -> None:
        owner = run.world.owners[owners[invitation["owner_id"]]]
        rng = random.Random(f"{run.world.seed}:answer:{owner.index}:{invitation['touchpoint']}")
        survey = questions.get(invitation["template_id"])
        if survey is None or rng.random() >= ANSWER_SHARE:
            run.tally.add("survey invitations", left_unanswered=1)
        else:
            body = {"answers": _answers(rng, owner, survey, invitation["language"])}
            response = await run.gateway.post(
                f"/v1/feedback/invitations/{invitation['id']}/response",
                body,
                headers=run.credentials.owner(invitation["owner_id"]),
                accept=(201, 409),
            )
            run.tally.add("survey invitations", answered=response.status_code == 201)
        run.progress.advance(task)

    await run_all(pending, answer, workers=16)


def _band(owner: Owner) -> str:
    if any(vehicle.key_trouble for vehicle in owner.vehicles) or owner.satisfaction < 0.45:
        return "detractor"
    return "promoter" if owner.satisfaction > 0.75 else "passive"


_SCORES = {"nps": {"detractor": (2, 6), "passive": (7, 8), "promoter": (9, 10)},
           "csat": {"detractor": (1, 2), "passive": (3, 3), "promoter": (4, 5)}}  # fmt: skip


def _answers(rng: random.Random, owner: Owner, survey: list[dict], language: str) -> dict:
    """The owner's mood decides the score; the other questions get a plausible answer."""
    band = _band(owner)
    answers: dict = {}
    for question in survey:
        kind = question["type"]
        if kind in _SCORES:
            answers[question["id"]] = rng.randint(*_SCORES[kind][band])
        elif kind == "rating":
            answers[question["id"]] = rng.randint(question["scale_min"], question["scale_max"])
        elif kind in ("single_choice", "multiple_choice"):
            choice = rng.choice(question["choices"])["value"]
            answers[question["id"]] = choice if kind == "single_choice" else [choice]
        elif question.get("required", True) or rng.random() < 0.6:
            chinese, english = c.SURVEY_REASONS[band]
            answers[question["id"]] = chinese if language == "zh" else english
    return answers
