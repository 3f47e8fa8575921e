"""What every request meets at the edge: ids, limits, stripping, and upstream failures."""

import jwt

from tests.gateway.support import forwarded_caller, token

OWNER = {"Authorization": f"Bearer {token()}"}


async def test_client_supplied_internal_headers_never_reach_a_service(gateway):
    forged = jwt.encode(
        {"caller": {"kind": "staff", "subject": "x", "roles": ["admin"]}},
        "a-guessed-secret-of-thirty-two-bytes",
        algorithm="HS256",
    )
    response = await gateway.http.get(
        "/v1/echo/x", headers={**OWNER, "x-cem-caller": forged, "x-cem-tenant": "other"}
    )
    assert "x-cem-tenant" not in response.json()["headers"]
    assert forwarded_caller(response)["kind"] == "owner"


async def test_the_client_address_is_forwarded_and_never_a_claimed_one(gateway):
    response = await gateway.http.get(
        "/v1/echo/x", headers={**OWNER, "x-forwarded-for": "10.9.9.9"}
    )
    forwarded_for = response.json()["headers"]["x-forwarded-for"]
    assert forwarded_for == "127.0.0.1" and "10.9.9.9" not in forwarded_for


async def test_every_response_carries_a_request_id(gateway):
    kept = await gateway.http.get("/v1/echo/x", headers={**OWNER, "x-request-id": "req-12345678"})
    assert kept.headers["x-request-id"] == "req-12345678"
    assert kept.json()["headers"]["x-request-id"] == "req-12345678"
    replaced = await gateway.http.get("/v1/echo/x", headers={**OWNER, "x-request-id": "bad id!"})
    assert replaced.headers["x-request-id"] != "bad id!"
    for path in ("/v1/echo/x", "/nowhere", "/healthz", "/v1/gateway/nothing"):
        assert (await gateway.http.get(path)).headers.get("x-request-id"), path


async def test_the_rate_limit_answers_429_with_retry_after(make_gateway):
    gateway = await make_gateway(rate_limit_per_second=0.5, rate_limit_burst=3)
    statuses = [(await gateway.http.get("/v1/echo/x", headers=OWNER)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await gateway.http.get("/v1/echo/x", headers=OWNER)
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"


async def test_public_paths_need_no_credentials_and_are_limited_per_address(make_gateway):
    gateway = await make_gateway(
        public_path_prefixes=["/v1/echo/public/"], rate_limit_per_second=0.5, rate_limit_burst=2
    )
    forged = {"x-cem-caller": "forged", "Authorization": "Bearer not-a-token"}
    answered = await gateway.http.get("/v1/echo/public/invitations/abc", headers=forged)
    assert answered.status_code == 200
    assert "x-cem-caller" not in answered.json()["headers"]
    assert "authorization" not in answered.json()["headers"]
    assert (await gateway.http.get("/v1/echo/public/x")).status_code == 200
    assert (await gateway.http.get("/v1/echo/public/x")).status_code == 429
    assert (await gateway.http.get("/v1/echo/private/x")).status_code == 401


async def test_bodies_over_the_limit_are_413_sized_or_streamed(make_gateway):
    gateway = await make_gateway(max_body_bytes=100_000)
    sized = await gateway.http.post("/v1/echo/x", content=b"x" * 100_001, headers=OWNER)
    assert sized.status_code == 413

    async def chunks():
        for _ in range(30):
            yield b"y" * 10_000

    streamed = await gateway.http.post("/v1/echo/x", content=chunks(), headers=OWNER)
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"
    fits = await gateway.http.post("/v1/echo/x", content=b"z" * 99_000, headers=OWNER)
    assert fits.json()["body_length"] == 99_000


async def test_unknown_services_and_routes_are_404_problems(gateway):
    for path in ("/v1/nothing/x", "/elsewhere", "/v1/gateway/unknown"):
        response = await gateway.http.get(path, headers=OWNER)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_down_service_is_503_and_a_slow_one_504(gateway):
    down = await gateway.http.get("/v1/down/x", headers=OWNER)
    assert down.status_code == 503 and down.json()["code"] == "upstream_unavailable"
    slow = await gateway.http.get("/v1/echo/x?sleep=3", headers=OWNER)
    assert slow.status_code == 504 and slow.json()["code"] == "upstream_timeout"


async def test_query_strings_reach_the_service(gateway):
    response = await gateway.http.get("/v1/echo/owners?limit=5&city=Shanghai", headers=OWNER)
    assert response.json()["query"] == "limit=5&city=Shanghai"


async def test_a_nul_character_is_refused_before_any_service(gateway):
    """PostgreSQL holds no NUL in text or jsonb: each service answered one with a 500."""
    big = b'{"pad": "' + b"x" * 200_000 + b'", "name": "a\\u0000b"}'  # streamed, not buffered
    for body in (b'{"name": "a\\u0000b"}', big):
        refused = await gateway.http.post(
            "/v1/echo/x", content=body, headers={**OWNER, "content-type": "application/json"}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "body"
    for query in ("?name=a%00b", "/a%00b"):
        refused = await gateway.http.get(f"/v1/echo/x{query}", headers=OWNER)
        assert refused.status_code == 422, query
    text = await gateway.http.post("/v1/echo/x", content=b'{"name": "a\\\\u0000b"}', headers=OWNER)
    assert text.status_code == 200  # a backslash followed by "u0000" is ordinary text
