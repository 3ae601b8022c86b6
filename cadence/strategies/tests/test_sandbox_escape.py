"""The escape corpus (security review F1): templates that try to reach past the documented fields,
through subscripts, ``attr``, ``map``, format strings, managers and querysets, run through every
door a template has (preview, saving a step, sending, the task list and the dashboard) as a rep
with real users, tokens and contacts in the database. Nothing outside the documented fields is
ever readable, and nothing is ever written."""

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cadence.accounts.choices import Role
from cadence.accounts.models import User
from cadence.accounts.tests.factories import UserFactory
from cadence.messaging.models import OutboundMessage
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user
from cadence.notifications.models import Notification
from cadence.strategies.rendering import render_text, template_context, template_problems

pytestmark = pytest.mark.django_db

ADMIN_EMAIL = "root-admin@secret.example"

CORPUS = [
    # Subscripts reach what dotted access was checked for.
    "{{ user['password'] }}",
    "{{ user['auth_token']['key'] }}",
    "{{ contact['owner']['password'] }}",
    "{% for u in user['team']['members']['model']['objects'].filter(is_superuser=True) %}"
    "{{ u['auth_token']['key'] }}{% endfor %}",
    "{{ user['team']['members']['model']['objects'].raw(\"UPDATE users SET role = 'admin'\") }}",
    "{{ user['_meta']['model']['objects'].all() }}",
    "{{ contact['company']['contacts'].all() }}",
    "{{ contact['__class__']['objects'].all() }}",
    # Dotted walks to relations and managers.
    "{{ user.password }}{{ user.auth_token.key }}{{ user.team.members.all() }}",
    "{{ contact.owner.email }}{{ plan.user.password }}{{ step.strategy.created_by.password }}",
    "{{ contact.company.contacts.all()|list }}",
    # Filters that look attributes up.
    "{{ user|attr('password') }}",
    "{{ user|attr('_meta')|attr('model')|attr('objects') }}",
    "{{ [user]|map(attribute='password')|list }}",
    "{{ [user, contact]|map(attribute='owner')|list }}",
    "{{ [contact]|selectattr('owner')|list }}",
    "{{ [user]|sort(attribute='password')|first }}",
    "{{ [user]|groupby('password')|list }}",
    "{{ [user]|sum(attribute='password') }}",
    "{{ user|dictsort }}{{ contact|list }}{{ user|tojson }}",
    # Format strings.
    "{{ '{0.password}'.format(user) }}",
    "{{ '{0.__globals__}'.format_map({'0': contact}) }}",
    "{{ '{0[password]}'.format(user) }}",
    "{{ '%s'|format(user) }}{{ '%(password)s' % user }}",
    "{{ ('{0.' ~ 'password}').format(user) }}",
    # Internals of every object within reach.
    "{{ user.get_full_name.__globals__ }}",
    "{{ user.get_full_name.__self__.password }}",
    "{{ contact.__class__.__mro__[1].__subclasses__() }}",
    "{{ namespace.__init__.__globals__['sys'].modules }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ range.__self__ }}{{ dict.__base__.__subclasses__() }}",
    "{% for x in range(1) %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}",
    "{{ self._TemplateReference__context.parent }}",
    "{{ self.__dict__ }}{{ lipsum.__globals__ }}",
    "{{ plan.next_step_due_date.tzinfo }}{{ plan.next_step_due_date.__class__ }}",
    "{% set ns = namespace() %}{{ ns.__init__ }}{{ ns._Namespace__attrs }}",
]


@pytest.fixture
def secrets(rep):
    """A superuser with a token and a known email, the rep's own hash and token, and the
    texts that must never appear in anything a template produces."""
    admin = UserFactory(username="root", role=Role.ADMIN, is_superuser=True, email=ADMIN_EMAIL)
    rep.set_password("rep-password-1")
    rep.save()
    return [
        Token.objects.create(user=admin).key,
        Token.objects.create(user=rep).key,
        rep.password,
        "pbkdf2_sha256",
        ADMIN_EMAIL,
        "SECRET_KEY",
        "<class",
        "<function",
        "QuerySet",
        "<User",
        "<Contact",
    ]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


def _roles_unchanged():
    assert not User.objects.filter(role=Role.ADMIN).exclude(username="root").exists()


@pytest.mark.parametrize("source", CORPUS)
def test_preview_and_save_never_reveal_anything_outside_the_fields(
    source, rep, secrets, client_for
):
    client = client_for(rep)
    contact = contacts_of(rep, 1)[0]
    strategy = automated_strategy(created_by=rep)

    for payload in (
        {"subject_template": source},
        {"description_template": source},
        {"description_template": source, "contact_id": str(contact.pk)},
    ):
        preview = client.post("/api/v1/templates/preview/", payload, format="json")
        assert preview.status_code in (200, 400), preview.content
        assert not _leaks(preview.content.decode(), secrets)

    saved = client.post(
        f"/api/v1/strategies/{strategy.pk}/steps/",
        {
            "step_number": 2,
            "delay_days": 1,
            "activity_type": "Email",
            "subject_template": "Hi {{ contact.first_name }}",
            "description_template": source,
        },
        format="json",
    )
    assert saved.status_code in (201, 400), saved.content
    assert not _leaks(saved.content.decode(), secrets)
    _roles_unchanged()


@pytest.mark.parametrize("source", CORPUS)
def test_a_stored_hostile_template_sends_and_lists_nothing_outside_the_fields(
    source, secrets, client_for
):
    """A template saved before the checks (written straight to the database) is refused at
    sending with a reason, and the task list and dashboard stay up, showing it as written."""
    seller = sender_user()
    strategy = automated_strategy(created_by=seller)
    step = strategy.steps.get(step_number=1)
    step.subject_template = "Hello {{ contact.first_name }} " + source
    step.description_template = source + " {{ contact.first_name }}"
    step.save()
    contact = contacts_of(seller, 1)[0]
    enroll(strategy, seller, [contact])

    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    row = OutboundMessage.objects.get()
    for text in (row.subject, row.body, row.error):
        assert not _leaks(text, secrets)
    for message in mail.outbox:
        assert not _leaks(message.subject + message.body, secrets)
    for note in Notification.objects.all():
        assert not _leaks(note.title + note.body, secrets)

    client = client_for(seller)
    tasks = client.get("/api/v1/tasks/")
    assert tasks.status_code == 200
    assert not _leaks(tasks.content.decode(), secrets)
    client.force_login(seller)
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert not _leaks(dashboard.content.decode().replace(source, ""), secrets)
    _roles_unchanged()


def test_templates_see_only_the_documented_fields_as_plain_data(rep):
    contact = contacts_of(rep, 1)[0]
    context = template_context(contact=contact, company=contact.company, user=rep)

    assert render_text("{{ contact|list|sort|join(',') }}", context) == (
        "email,first_name,full_name,last_name,linkedin_url,phone,title"
    )
    assert render_text("{{ user.get_full_name() }}|{{ contact.first_name }}", context) == (
        f"{rep.get_full_name()}|{contact.first_name}"
    )
    assert render_text("{{ contact['first_name'] }}", context) == contact.first_name


@pytest.mark.parametrize(
    "source",
    [
        "{{ user['password'] }}",
        "{{ contact['owner'] }}",
        "{{ user.password }}",
        "{{ '{0.password}'.format(user) }}",
        "{{ user|attr('password') }}",
        "{{ user.__class__ }}",
    ],
)
def test_reaching_past_the_fields_is_refused_with_a_reason_on_save(source):
    problems = template_problems(source)

    assert problems
    assert all(problem.startswith("Line 1:") for problem in problems), problems
