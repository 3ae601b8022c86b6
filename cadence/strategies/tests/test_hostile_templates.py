"""Hostile templates: every injection attempt is refused or rendered inert, and rendering is
bounded so a template cannot hang a worker or exhaust its memory."""

import time
from types import SimpleNamespace

import pytest

from cadence.strategies.rendering import (
    MAX_OUTPUT,
    render_text,
    template_context,
    template_problems,
)

SECRET = "s3cr3t-from-settings"


def _context():
    contact = SimpleNamespace(first_name="Ada", last_name="L", full_name="Ada L")
    return template_context(contact=contact, company=SimpleNamespace(name="Acme"))


@pytest.mark.parametrize(
    "source",
    [
        "{{ contact.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__init__.__globals__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ contact|attr('__class__')|attr('__mro__') }}",
        "{{ 'x'.format.__globals__ }}",
        "{{ '{0.__class__.__mro__}'.format(contact) }}",
        "{{ cycler.__init__.__globals__.os.environ }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ self._TemplateReference__context }}",
        "{{ config }}{{ settings.SECRET_KEY }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_attribute_walks_and_format_tricks_are_inert(source, settings):
    settings.SECRET_KEY = SECRET
    started = time.perf_counter()
    output = render_text(source, _context())
    assert time.perf_counter() - started < 2
    for leak in ("subclasses", "<class", "environ", "uid=", SECRET, "function"):
        assert leak not in output.replace(source, "")


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ ([1] * 100000) * 100000 }}",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "{% set s = 'x' * 5000 %}{% for a in s %}{% for b in s %}{% for c in s %}"
        "{% endfor %}{% endfor %}{% endfor %}",
    ],
)
def test_runaway_templates_stop_quickly_and_are_refused_on_save(source):
    started = time.perf_counter()
    output = render_text(source, _context())
    assert time.perf_counter() - started < 5
    assert len(output) <= MAX_OUTPUT
    started = time.perf_counter()
    assert template_problems(source), source
    assert time.perf_counter() - started < 5


def test_ordinary_loops_still_render():
    source = "{% for i in range(3) %}{{ i }}{% endfor %} {{ contact.first_name * 2 }}"
    assert render_text(source, _context()) == "012 AdaAda"
    assert template_problems(source) == []
