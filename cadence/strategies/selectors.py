"""Strategies a user may see and change.

Templates are the team's shared playbook: everyone sees every template. A non-template strategy
belongs to one custom plan and is seen by whoever may see its creator's work or runs the plan.
Changing a strategy is for its creator, the manager of the creator's team, and admins.
A strategy belongs to its creator's team: turning its automation on or off is for that team's
managers and admins, even on a template that every team sees and follows.
"""

from django.db.models import Count, Q, QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work, scope_by_user
from cadence.strategies.models import ContactStrategy, StrategyStep


def template_list() -> QuerySet[ContactStrategy]:
    """The reusable strategies, which every user may see (``strategy_list`` filtered to them,
    without the test of custom strategies' plans that costs a scan of the plans)."""
    return (
        ContactStrategy.objects.filter(is_template=True)
        .select_related("created_by", "automation_approved_by")
        .annotate(step_count=Count("steps", distinct=True))
    )


def strategy_list(*, viewer: User) -> QuerySet[ContactStrategy]:
    if viewer.is_admin:
        visible = Q()
    else:
        # Plans sit above strategies, so they are reached through the reverse relation only.
        runs_a_plan = ContactStrategy.objects.filter(
            scope_by_user(viewer, field="plans__user")
        ).values("pk")
        visible = (
            Q(is_template=True) | scope_by_user(viewer, field="created_by") | Q(pk__in=runs_a_plan)
        )
    return (
        ContactStrategy.objects.filter(visible)
        .select_related("created_by", "automation_approved_by")
        .annotate(step_count=Count("steps", distinct=True))
    )


def strategy_can_edit(viewer: User, strategy: ContactStrategy) -> bool:
    return can_manage_user_work(viewer, strategy.created_by)


def strategy_can_approve_automation(viewer: User, strategy: ContactStrategy) -> bool:
    """Whether ``viewer`` may approve or stop the strategy's automated sending: a manager of the
    team of its creator, or an admin. Seeing a template is not enough: its approval lets its
    steps email the leads of every team that follows it, and that is its own team's call. With
    its creator gone, only admins may."""
    if viewer.is_admin:
        return True
    return viewer.is_manager and can_manage_user_work(viewer, strategy.created_by)


def strategies_approvable_by(*, viewer: User) -> QuerySet[ContactStrategy]:
    """The strategies whose automation ``viewer`` may approve or stop: the query form of
    ``strategy_can_approve_automation``, for pages that list them."""
    if viewer.is_admin:
        return strategy_list(viewer=viewer)
    if not viewer.is_manager:
        return ContactStrategy.objects.none()
    return strategy_list(viewer=viewer).filter(scope_by_user(viewer, field="created_by"))


def step_list(*, strategy: ContactStrategy) -> QuerySet[StrategyStep]:
    return strategy.steps.order_by("step_number")


def strategies_plannable_by(*, viewer: User) -> QuerySet[ContactStrategy]:
    """Strategies a new plan may follow: any template, or a custom strategy from the viewer's
    own scope. Having run a plan on someone's custom strategy shows it, but does not make it
    one's own to reuse. (Archived ones are included so the refusal can say why.)"""
    mine = Q(is_template=True) | scope_by_user(viewer, field="created_by")
    return strategy_list(viewer=viewer).filter(mine)
