import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_request_is_401(api_client):
    """Without credentials the API answers 401, with a WWW-Authenticate challenge."""
    response = api_client.get("/api/v1/plans/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_token_login_returns_a_token_that_authenticates(api_client, rep):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "rep", "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "rep"
