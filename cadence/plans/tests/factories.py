import factory

from cadence.crm.tests.factories import ContactFactory
from cadence.plans import progress
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.strategies.tests.factories import ContactStrategyFactory


class LeadContactPlanFactory(factory.django.DjangoModelFactory):
    """A plan as the engine would have made it: at the strategy's first step (when it has
    steps), due by the rules, owing its reminder while it runs."""

    class Meta:
        model = LeadContactPlan

    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda p: p.contact.company)
    strategy = factory.SubFactory(ContactStrategyFactory)
    user = factory.LazyAttribute(lambda p: p.contact.owner)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        plan = model_class(*args, **kwargs)
        if plan.current_step is None and "current_step" not in kwargs:
            plan.current_step = progress.first_step(plan)
        if plan.current_step is not None and plan.status in RUNNING_STATUSES:
            due = kwargs.get("next_step_due_date") or progress.due_date_for(plan, plan.current_step)
            progress.set_due(plan, due)
        plan.save()
        return plan
