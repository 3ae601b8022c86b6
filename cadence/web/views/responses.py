"""How several pages answer alike: a list page that htmx refreshes in part, with its tabs by
status, and the return address of a plain form post."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request for part of a page; a history restore needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_list(request: HttpRequest, template: str, partial: str, context: dict) -> HttpResponse:
    """The whole page, or (for htmx) only its results, which the filters swap in; both vary on
    the HX-Request header so a cache never serves one for the other."""
    response = render(request, partial if wants_partial(request) else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def status_tabs(
    rows: QuerySet, tabs: list[tuple[str, str]], url_of: Callable[[str], str]
) -> list[dict]:
    """The tabs of a list by status, each with its address and how many of ``rows`` it holds,
    counted in one aggregate query; the tab of value "" (All) counts them all."""
    by_status = rows.order_by().values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in by_status}
    counts[""] = sum(counts.values())
    return [
        {"value": value, "label": label, "count": counts.get(value, 0), "url": url_of(value)}
        for value, label in tabs
    ]


def next_url(request: HttpRequest, default: str) -> str:
    """Where a plain form post goes back to: the page it came from, if it is one of ours."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
