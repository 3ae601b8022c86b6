import pytest
from django.core.management import call_command

from cadence.accounts import services
from cadence.accounts.choices import Role
from cadence.accounts.models import User
from cadence.core.errors import CadenceError

pytestmark = pytest.mark.django_db


def test_createsuperuser_makes_an_admin(monkeypatch):
    """``manage.py createsuperuser`` gives the admin role, so the API treats them as admin."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-password")
    call_command("createsuperuser", "--noinput", "--username", "boss", "--email", "b@x.test")
    boss = User.objects.get(username="boss")
    assert boss.role == Role.ADMIN
    assert boss.is_admin
    assert boss.check_password("a-long-enough-password")


def test_user_without_password_cannot_log_in():
    user = services.user_create(username="invited", email="i@x.test")
    assert not user.has_usable_password()


def test_password_is_validated_and_hashed():
    with pytest.raises(CadenceError) as error:
        services.user_create(username="weak", password="password")
    assert error.value.field == "password"
    user = services.user_create(username="strong", password="plum-orbit-42-sunset")
    assert user.password != "plum-orbit-42-sunset"
    assert user.check_password("plum-orbit-42-sunset")


def test_admin_cannot_deactivate_themselves(admin_user):
    with pytest.raises(CadenceError):
        services.user_deactivate(user=admin_user, actor=admin_user)


def test_deactivating_keeps_the_user_and_their_history(admin_user, rep):
    services.user_deactivate(user=rep, actor=admin_user)
    rep.refresh_from_db()
    assert rep.is_active is False
