"""The outbox and everything around automated email: the approval queue, one message's
actions, captured mail, the suppression list and inbound mail.

Message actions and suppression removal work both as htmx requests, which swap the affected row
and answer 200 even when the action is refused (htmx does not swap an error response, and the
refusal belongs next to the row), and as plain form posts, which redirect back with a message.
Every rule lives in ``cadence.messaging.services``: the "may this user ..." checks here only
decide which buttons to show, the service still refuses what it must.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from cadence.core.errors import CadenceError
from cadence.messaging import services
from cadence.messaging.choices import (
    InboundKind,
    InboundStatus,
    OutboundStatus,
    SuppressionReason,
)
from cadence.messaging.models import OutboundMessage
from cadence.messaging.selectors import (
    automation_approvals,
    captured_mail_get,
    captured_mail_list,
    inbound_list,
    outbox_list,
    suppression_can_lift,
    suppression_list,
)
from cadence.strategies.selectors import (
    strategy_can_approve_automation,
    strategy_list,
)
from cadence.web.views.responses import next_url, render_list, status_tabs, wants_partial

PAGE_SIZE = 25

#: The outbox's tabs, in order; "" is All. Suppressed, cancelled and sending rows are only
#: under All (they need nobody's attention), but ``?status=`` accepts every status.
TABS = [
    (OutboundStatus.AWAITING_APPROVAL.value, "Awaiting approval"),
    (OutboundStatus.QUEUED.value, "Queued"),
    (OutboundStatus.SENT.value, "Sent"),
    (OutboundStatus.FAILED.value, "Failed"),
    (OutboundStatus.UNCERTAIN.value, "Uncertain"),
    ("", "All"),
]

# -- Forms ----------------------------------------------------------------------------------------


class SuppressionAddForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    note = forms.CharField(label="Note", required=False, max_length=1000)


class SuppressionSearchForm(forms.Form):
    q = forms.CharField(label="Search by email", required=False, max_length=254)
    reason = forms.ChoiceField(
        label="Reason",
        required=False,
        choices=[("", "Any reason"), *SuppressionReason.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )


class InboundFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *InboundKind.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *InboundStatus.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )


# -- Helpers --------------------------------------------------------------------------------------


def _is_approver(user) -> bool:
    """Whether to show the approval queue at all; which strategies it offers, and whether a
    strategy's buttons show, is ``strategy_can_approve_automation``'s to say."""
    return user.is_manager or user.is_admin


def _message_or_404(request: HttpRequest, pk) -> OutboundMessage:
    """A message the viewer may see; another team's is a 404, not a 403."""
    return get_object_or_404(outbox_list(viewer=request.user).select_related("strategy"), pk=pk)


# -- Outbox ---------------------------------------------------------------------------------------


@login_required
def outbox_page(request):
    """The outbox by status, with the approval queue on top for managers and admins."""
    status = request.GET.get("status", "")
    if status not in OutboundStatus.values:
        status = ""
    queryset = outbox_list(viewer=request.user).select_related("strategy")
    if status:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    url = reverse("web-outbox")
    context = {
        "page": page,
        "status": status,
        "tabs": status_tabs(
            outbox_list(viewer=request.user),
            TABS,
            lambda value: f"{url}?status={value}" if value else url,
        ),
        "next": request.get_full_path(),
        "is_approver": _is_approver(request.user),
    }
    if not wants_partial(request):
        context.update(automation_approvals(viewer=request.user))
    return render_list(
        request, "web/outbox/outbox.html", "web/outbox/partials/outbox_results.html", context
    )


@login_required
def outbox_message_page(request, pk):
    """One message: the rendered email, its history and the actions legal for its status."""
    message = _message_or_404(request, pk)
    return render(
        request,
        "web/outbox/message.html",
        {
            "message": message,
            "next": request.get_full_path(),
            "is_approver": message.strategy is not None
            and strategy_can_approve_automation(request.user, message.strategy),
        },
    )


def _outbox_action(
    request: HttpRequest, pk, perform: Callable[[OutboundMessage], OutboundMessage]
) -> HttpResponse:
    """Run one message action; answer htmx with the message's swapped rows, a plain post with
    a redirect and a flash message."""
    message = _message_or_404(request, pk)
    notice = error = ""
    try:
        message = perform(message)
    except CadenceError as exc:
        error = exc.message
    else:
        notice = _outcome(message)
    if wants_partial(request):
        message = _message_or_404(request, pk)
        return render(
            request,
            "web/outbox/partials/message_rows.html",
            {
                "message": message,
                "open": True,
                "notice": notice,
                "error": error,
                "next": next_url(request, reverse("web-outbox")),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(next_url(request, reverse("web-outbox-message", args=[message.pk])))


def _outcome(message: OutboundMessage) -> str:
    """What became of the message, in words: a send now may have waited or been refused."""
    to = message.to_email or "the contact"
    if message.status == OutboundStatus.SENT:
        return f"The email to {to} was sent."
    if message.status == OutboundStatus.CANCELLED:
        return f"The email to {to} is cancelled; the step stays to be done by hand."
    if message.status == OutboundStatus.QUEUED:
        reason = f" {message.error}" if message.error else ""
        return f"The email to {to} is queued.{reason}"
    reason = f": {message.error}" if message.error else "."
    return f"The email to {to} is {message.get_status_display().lower()}{reason}"


@login_required
@require_POST
def outbox_message_action(request, pk, action: Callable[..., OutboundMessage]) -> HttpResponse:
    """Send a message now, cancel it or retry it: ``action`` is the messaging service the URL
    names, called as the viewer."""
    return _outbox_action(request, pk, lambda m: action(message=m, actor=request.user))


@login_required
@require_POST
def outbox_confirm(request, pk):
    """Settle an uncertain message: ``sent=yes`` (it arrived) or ``sent=no`` (send it again)."""
    answer = request.POST.get("sent", "")

    def perform(message: OutboundMessage) -> OutboundMessage:
        if answer not in ("yes", "no"):
            raise CadenceError("Say whether the email arrived.", field="sent")
        return services.outbox_confirm(message=message, actor=request.user, sent=answer == "yes")

    return _outbox_action(request, pk, perform)


def _automation_action(request: HttpRequest, pk, *, approve: bool) -> HttpResponse:
    strategy = get_object_or_404(strategy_list(viewer=request.user), pk=pk)
    try:
        services.strategy_automation_decide(strategy=strategy, actor=request.user, approve=approve)
    except CadenceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Automation of “{strategy.name}” is approved; its waiting emails are queued."
            if approve
            else f"Automation of “{strategy.name}” is stopped; its queued emails wait for a "
            "new approval.",
        )
    return redirect(next_url(request, reverse("web-outbox")))


@login_required
@require_POST
def strategy_approve_automation(request, pk):
    """Approve a strategy's automated steps (managers and admins)."""
    return _automation_action(request, pk, approve=True)


@login_required
@require_POST
def strategy_stop_automation(request, pk):
    """Turn a strategy's automation off again (managers and admins)."""
    return _automation_action(request, pk, approve=False)


# -- Captured mail --------------------------------------------------------------------------------


@login_required
def captured_mail_page(request):
    """Mail the embedded default transport kept instead of sending: that of the plans the viewer
    may see and their own reminders (``captured_mail_list`` says whose)."""
    mails = captured_mail_list(viewer=request.user)
    page = Paginator(mails, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/outbox/captured_mail.html", {"page": page})


def _body_of(message: EmailMessage) -> str:
    """The plain-text body (or the HTML source if there is none), shown as text."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""
    except (LookupError, KeyError, ValueError):  # an unknown charset or a broken part
        return "(This message's body could not be decoded.)"


@login_required
def captured_mail_message_page(request, name):
    try:
        message = captured_mail_get(viewer=request.user, name=name)
    except OSError:  # removed between listing and reading
        message = None
    if message is None:
        raise Http404("No such captured email.")
    return render(
        request,
        "web/outbox/captured_mail_message.html",
        {
            "name": name,
            "subject": str(message.get("Subject", "")),
            "headers": [(key, str(value)) for key, value in message.items()],
            "body": _body_of(message),
        },
    )


# -- Suppressions ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def suppressions_page(request):
    """The suppression list with search; anyone may add an address (POST here)."""
    add_form = SuppressionAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and add_form.is_valid():
        try:
            suppression = services.suppression_add(
                email=add_form.cleaned_data["email"],
                note=add_form.cleaned_data["note"],
                actor=request.user,
            )
        except CadenceError as exc:
            add_form.add_error(exc.field if exc.field in add_form.fields else None, exc.message)
        else:
            messages.success(request, f"{suppression.email} will not be emailed again.")
            return redirect("web-suppressions")

    search = SuppressionSearchForm(request.GET)
    queryset = suppression_list(viewer=request.user)
    if search.is_valid():
        if query := search.cleaned_data["q"].strip():
            queryset = queryset.filter(email__icontains=query)
        if reason := search.cleaned_data["reason"]:
            queryset = queryset.filter(reason=reason)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"suppression": s, "may_lift": suppression_can_lift(request.user, s)} for s in page]
    context = {
        "page": page,
        "rows": rows,
        "search": search,
        "add_form": add_form,
        "next": request.get_full_path(),
    }
    if request.method == "POST":
        # The add form's errors, shown next to its fields on the whole page.
        return render(request, "web/outbox/suppressions.html", context, status=400)
    return render_list(
        request,
        "web/outbox/suppressions.html",
        "web/outbox/partials/suppression_results.html",
        context,
    )


@login_required
@require_POST
def suppression_remove(request, pk):
    """Allow email to an address again (managers; admins for a recipient's own word)."""
    suppression = get_object_or_404(suppression_list(viewer=request.user), pk=pk)
    email = suppression.email
    error = ""
    try:
        services.suppression_remove(suppression=suppression, actor=request.user)
    except CadenceError as exc:
        error = exc.message
    if wants_partial(request):
        return render(
            request,
            "web/outbox/partials/suppression_row.html",
            {
                "suppression": None if not error else suppression,
                "removed_email": email,
                "may_lift": suppression_can_lift(request.user, suppression),
                "error": error,
                "next": next_url(request, reverse("web-suppressions")),
                "row_id": pk,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{email} may be emailed again.")
    return redirect(next_url(request, reverse("web-suppressions")))


# -- Inbound mail ---------------------------------------------------------------------------------


@login_required
def inbound_page(request):
    """Mail that came back and what Cadence made of it, filterable by kind and status."""
    filters = InboundFilterForm(request.GET)
    queryset = inbound_list(viewer=request.user)
    if filters.is_valid():
        if kind := filters.cleaned_data["kind"]:
            queryset = queryset.filter(kind=kind)
        if status := filters.cleaned_data["status"]:
            queryset = queryset.filter(status=status)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_list(
        request,
        "web/outbox/inbound.html",
        "web/outbox/partials/inbound_results.html",
        {"page": page, "filters": filters},
    )


urlpatterns = [
    path("outbox/", outbox_page, name="web-outbox"),
    path("outbox/mail/", captured_mail_page, name="web-captured-mail"),
    path("outbox/mail/<str:name>/", captured_mail_message_page, name="web-captured-mail-message"),
    path("outbox/inbound/", inbound_page, name="web-inbound"),
    path(
        "outbox/strategies/<uuid:pk>/approve/",
        strategy_approve_automation,
        name="web-outbox-approve-automation",
    ),
    path(
        "outbox/strategies/<uuid:pk>/stop/",
        strategy_stop_automation,
        name="web-outbox-stop-automation",
    ),
    path("outbox/<uuid:pk>/", outbox_message_page, name="web-outbox-message"),
    path(
        "outbox/<uuid:pk>/send-now/",
        outbox_message_action,
        {"action": services.outbox_send_now},
        name="web-outbox-send-now",
    ),
    path(
        "outbox/<uuid:pk>/cancel/",
        outbox_message_action,
        {"action": services.outbox_cancel},
        name="web-outbox-cancel",
    ),
    path(
        "outbox/<uuid:pk>/retry/",
        outbox_message_action,
        {"action": services.outbox_retry},
        name="web-outbox-retry",
    ),
    path("outbox/<uuid:pk>/confirm/", outbox_confirm, name="web-outbox-confirm"),
    path("suppressions/", suppressions_page, name="web-suppressions"),
    path("suppressions/<uuid:pk>/remove/", suppression_remove, name="web-suppression-remove"),
]
