from types import SimpleNamespace

from cadence.strategies.rendering import render_text, template_context, template_problems


def _context():
    contact = SimpleNamespace(first_name="Ada", last_name="Lovelace", full_name="Ada Lovelace")
    company = SimpleNamespace(name="Analytical Engines")
    user = SimpleNamespace(signature="-- Sam")
    return template_context(contact=contact, company=company, user=user)


def test_dotted_and_flat_placeholders():
    out = render_text(
        "Hi {{ contact.first_name }} at {{company_name}} ({{ contact_name }}) {{ user.signature }}",
        _context(),
    )
    assert out == "Hi Ada at Analytical Engines (Ada Lovelace) -- Sam"


def test_default_filter_and_unknown_names():
    assert render_text('Hi {{ contact.title | default("there") }}', _context()) == "Hi there"
    assert render_text("Hi {{ nobody.knows }}!", _context()) == "Hi !"


def test_a_field_outside_the_documented_ones_is_a_template_problem_not_a_blank():
    shown = render_text('Hi {{ contact.nickname | default("there") }}', _context())

    assert shown == 'Hi {{ contact.nickname | default("there") }}'
    assert shown.problem == (
        "Line 1: Templates may not use 'nickname' of contact; it has email, first_name, "
        "full_name, last_name, linkedin_url, phone, title."
    )


def test_broken_template_is_shown_as_written_with_its_problem():
    shown = render_text("Hi {{ contact.first_name", _context())

    assert shown == "Hi {{ contact.first_name"
    assert shown.problem.startswith("Line 1: ")


def test_sandbox_refuses_attribute_walks():
    out = render_text("{{ contact.__class__.__mro__ }}", _context())
    assert "object" not in out


def test_valid_templates_have_no_problems():
    source = (
        'Hi {{ contact.first_name | default("there") }} at {{ company.name }},\n'
        "{% for x in [1, 2] %}{{ x }}{% endfor %} {{ contact_name }} {{ user.signature }}"
    )
    assert template_problems(source) == []


def test_syntax_error_names_its_line():
    problems = template_problems("Hello\n{{ contact.first_name ")
    assert len(problems) == 1
    assert problems[0].startswith("Line 2:")


def test_unknown_placeholders_are_named_with_their_line():
    problems = template_problems("Hi {{ contact.nickname }}\n{{ boss }} {{ company.name }}")
    assert problems == [
        "Line 2: unknown placeholder 'boss'.",
        "Line 1: unknown placeholder 'contact.nickname'; contact has email, first_name, "
        "full_name, last_name, linkedin_url, phone, title.",
    ]
