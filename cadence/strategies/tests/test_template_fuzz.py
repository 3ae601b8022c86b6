"""Templates built by Hypothesis from a grammar of Jinja constructs (filters, method calls on
strings and the context objects, format strings, loops, macros, attribute walks, huge numbers)
run through every door: the checks on save, display, the send path's personalization check, and
over HTTP preview, saving a step, the task list and the scheduler pass. Zero 500s, zero uncaught
exceptions, and every refusal explained (issue 14, section 2)."""

import os

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.messaging.models import OutboundMessage
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user
from cadence.ops.scheduler import scheduler_pass
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import StrategyStep
from cadence.strategies.rendering import (
    render_message,
    render_text,
    sample_context,
    template_problems,
)

NAMES = ["contact", "company", "user", "plan", "step", "contact_name", "company_name", "nobody"]
NAMES += ["loop", "self", "range", "namespace", "cycler", "joiner", "dict", "lipsum"]
FIELDS = ["first_name", "full_name", "email", "name", "signature", "get_full_name", "status"]
FIELDS += ["next_step_due_date", "step_number", "password", "_meta", "__class__", "objects"]
FIELDS += ["owner", "team", "auth_token", "__globals__", "__init__", "model", "pk", "items"]
METHODS = ["format", "format_map", "ljust", "center", "zfill", "replace", "join", "split"]
METHODS += ["upper", "strip", "strftime", "mro", "__subclasses__", "all", "filter", "raw"]
FILTERS = ["default", "upper", "title", "format", "center", "indent", "wordwrap", "truncate"]
FILTERS += ["join", "replace", "attr", "map", "select", "batch", "slice", "sum", "list"]
FILTERS += ["string", "tojson", "length", "int", "float", "round", "first", "last", "sort"]
FILTERS += ["unique", "reverse", "dictsort", "striptags", "pprint", "items", "max", "groupby"]
STRINGS = ["''", "'x'", "'{0.__globals__}'", "'%0999999999d'", "'{:>999999999}'", "'%s %s'"]
STRINGS += ["'{0[password]}'", "'password'", "'__class__'", "'%(first_name)s'", "'a' * 90000"]
NUMBERS = ["0", "1", "-1", "3", "64", "1000000000", "99999999999999999999", "1.5e308", "10**9"]
OPERATORS = ["+", "-", "*", "**", "%", "/", "//", "~", "==", "and", "in"]

atoms = st.one_of(st.sampled_from(NAMES), st.sampled_from(STRINGS), st.sampled_from(NUMBERS))


def _extend(inner):
    arguments = st.lists(inner, max_size=3).map(", ".join)
    return st.one_of(
        st.tuples(inner, st.sampled_from(FIELDS)).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(inner, st.sampled_from(FIELDS)).map(lambda t: f"{t[0]}['{t[1]}']"),
        st.tuples(inner, st.sampled_from(METHODS), arguments).map(
            lambda t: f"{t[0]}.{t[1]}({t[2]})"
        ),
        st.tuples(inner, st.sampled_from(FILTERS), arguments).map(
            lambda t: f"({t[0]})|{t[1]}({t[2]})"
        ),
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.lists(inner, max_size=4).map(lambda items: f"[{', '.join(items)}]"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} if {t[1]} else '')"),
        arguments.map(lambda args: f"twice({args})"),
    )


expressions = st.recursive(atoms, _extend, max_leaves=8)


def _extend_block(inner):
    return st.one_of(
        st.tuples(expressions, inner).map(
            lambda t: f"{{% for item in {t[0]} %}}{t[1]}{{{{ loop.index }}}}{{% endfor %}}"
        ),
        st.tuples(expressions, inner).map(lambda t: f"{{% if {t[0]} %}}{t[1]}{{% endif %}}"),
        st.tuples(expressions, inner).map(
            lambda t: (
                f"{{% set ns = namespace(v={t[0]}) %}}{{% set ns.v = ns.v ~ ns.v %}}"
                f"{t[1]}{{{{ ns.v }}}}"
            )
        ),
        inner.map(lambda body: f"{{% set captured %}}{body}{{% endset %}}{{{{ captured }}}}"),
        inner.map(lambda body: f"{{% filter upper %}}{body}{{% endfilter %}}"),
        st.lists(inner, min_size=2, max_size=3).map("\n".join),
    )


blocks = st.recursive(
    st.one_of(
        expressions.map(lambda e: f"{{{{ {e} }}}}"),
        st.sampled_from(["Hi {{ contact.first_name }}, ", "text ", "{{ user.signature }}"]),
    ),
    _extend_block,
    max_leaves=6,
)
MACROS = (
    "{% macro twice(s='', n=0) %}{{ s }}{{ s }}{% if n %}{{ twice(s ~ s, n - 1) }}{% endif %}"
    "{% endmacro %}"
)
templates = st.one_of(blocks, blocks.map(lambda body: MACROS + body))
#: The API fuzz's knob (CADENCE_FUZZ_EXAMPLES, 10 by default) scales these too: 400 templates
#: through the checks and 60 through the HTTP doors by default.
SCALE = int(os.environ.get("CADENCE_FUZZ_EXAMPLES", "10"))
SAMPLE_USER = type("SampleUser", (), {"first_name": "Sam", "display_name": "Sam Seller"})()


def _explained(problems) -> bool:
    return all(isinstance(p, str) and len(p.strip()) > 10 for p in problems)


@settings(max_examples=40 * SCALE, deadline=None, derandomize=True)
@given(source=templates)
def test_no_template_escapes_the_checks_the_display_or_the_send_check(source):
    problems = template_problems(source)
    shown = render_text(source, sample_context(user=SAMPLE_USER))
    message = render_message(source, source, sample_context(user=SAMPLE_USER))

    assert isinstance(problems, list) and _explained(problems)
    assert shown.problem is None or (shown == source and _explained([shown.problem]))
    assert _explained(message.problems)
    if message.ok:
        assert message.body and message.subject


@pytest.fixture
def world(db):
    seller = sender_user()
    strategy = automated_strategy(created_by=seller, steps=2)
    contacts = contacts_of(seller, 2)
    enroll(strategy, seller, contacts)
    client = Client()
    client.force_login(seller)
    return strategy, client


@settings(
    max_examples=6 * SCALE,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=templates)
def test_no_template_makes_a_500_or_stops_a_pass(world, source):
    strategy, client = world
    preview = client.post(
        "/api/v1/templates/preview/",
        {"subject_template": source[:255], "description_template": source},
        content_type="application/json",
    )
    saved = client.patch(
        f"/api/v1/strategies/{strategy.pk}/steps/{strategy.steps.get(step_number=2).pk}/",
        {"subject_template": source[:255], "description_template": source},
        content_type="application/json",
    )
    assert preview.status_code in (200, 400), preview.content
    assert saved.status_code in (200, 400), saved.content
    for response in (preview, saved):
        if response.status_code == 400:
            assert _explained([p for field in response.json().values() for p in field])

    # Stored without the checks, as a template saved by an older version would be.
    StrategyStep.objects.filter(strategy=strategy).update(
        subject_template=source[:255], description_template=source
    )
    OutboundMessage.objects.all().delete()
    LeadContactPlan.objects.update(next_step_due_date=timezone.now())

    tasks = client.get("/api/v1/tasks/")
    dashboard = client.get("/")
    result = scheduler_pass(now=timezone.now())

    assert tasks.status_code == 200 and dashboard.status_code == 200
    assert result.failed_steps == ()
    for row in OutboundMessage.objects.all():
        assert row.status in ("queued", "failed", "awaiting_approval"), row.status
        if row.status == "failed":
            assert _explained([row.error])
