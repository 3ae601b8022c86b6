"""Importing contacts from a CSV file: upload, column mapping, preview, the import in chunks
with a progress bar, and the per-row report. The rules live in ``cadence.crm.imports`` and
``cadence.crm.import_jobs``; these views only walk the user through the steps."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from cadence.core.errors import CadenceError
from cadence.crm import import_jobs, imports
from cadence.web.forms import show_service_error

REPORT_PAGE_SIZE = 50


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A UTF-8 CSV file of up to 10 MB with a header row; commas or semicolons.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".csv", ".txt", ".tsv"):
            raise ValidationError(
                "Choose a .csv file. Save a spreadsheet as “CSV UTF-8” first.", code="extension"
            )
        return upload


class ImportMappingForm(forms.Form):
    """One select per Cadence field, offering the file's columns (with a sample value)."""

    def __init__(self, *args, job: import_jobs.ImportJob, sample: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.header = job.header
        columns = [("", "Not in the file")]
        for index, name in enumerate(job.header):
            value = sample[index].strip() if index < len(sample) else ""
            example = f" (e.g. {value[:40]})" if value else ""
            columns.append((str(index), f"{name}{example}"))
        for name, label in imports.IMPORT_FIELDS.items():
            current = job.mapping.get(name)
            self.fields[name] = forms.ChoiceField(
                label=label,
                required=False,
                choices=columns,
                initial="" if current is None else str(current),
            )

    def clean(self):
        data = super().clean()
        self.mapping = {
            name: int(data[name]) if data.get(name) else None for name in imports.IMPORT_FIELDS
        }
        for name, problem in imports.mapping_problems(self.mapping, self.header).items():
            self.add_error(name, problem)
        return data


# -- CSV import ---------------------------------------------------------------------------------


class UploadLimit(FileUploadHandler):
    """Stops taking a file past the size limit, so a huge upload is neither kept in memory nor
    written to a temporary file before being refused."""

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > imports.MAX_FILE_BYTES:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _job(request, job_id) -> import_jobs.ImportJob:
    try:
        return import_jobs.import_job_get(viewer=request.user, job_id=job_id)
    except import_jobs.ImportJobNotFound as exc:
        raise Http404("No such import.") from exc


def _job_url(name: str, job: import_jobs.ImportJob) -> str:
    return reverse(name, args=[job.job_id])


# CSRF is checked by ``_import_upload`` once the size limit is in place: the middleware would
# read the request body, and so the whole file, before the view could set it.
@login_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def contacts_import_page(request):
    """Step 1: upload a file."""
    limit = UploadLimit(request)
    if request.method == "POST":
        request.upload_handlers.insert(0, limit)
    return _import_upload(request, limit)


@csrf_protect
def _import_upload(request, limit: UploadLimit):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if limit.too_large:
            # The file was dropped unread: say why, rather than "this field is required".
            form.full_clean()
            form.errors["file"] = form.error_class(
                [
                    f"The file is larger than {imports.MAX_FILE_BYTES // (1024 * 1024)} MB; "
                    "split it in parts."
                ]
            )
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_jobs.import_job_create(
                    actor=request.user, filename=upload.name, data=upload.read()
                )
            except imports.CsvFileError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect(_job_url("web-contacts-import-mapping", job))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/leads/import_upload.html",
        {"form": form, "max_mb": imports.MAX_FILE_BYTES // (1024 * 1024)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contacts_import_mapping(request, job_id):
    """Step 2: which column holds which field, guessed from the header names."""
    job = _job(request, job_id)
    if job.status not in ("uploaded", "mapped"):
        return redirect(_job_url("web-contacts-import-job", job))
    sample = job.chunk(0)[0][1]
    form = ImportMappingForm(request.POST or None, job=job, sample=sample)
    if request.method == "POST" and form.is_valid():
        try:
            import_jobs.import_job_set_mapping(job=job, mapping=form.mapping)
        except CadenceError as exc:
            show_service_error(form, exc)
        else:
            return redirect(_job_url("web-contacts-import-preview", job))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "web/leads/import_mapping.html", {"form": form, "job": job}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def contacts_import_preview(request, job_id):
    """Step 3: the first rows as they would be imported; POST starts the import."""
    job = _job(request, job_id)
    if job.status == "uploaded":
        return redirect(_job_url("web-contacts-import-mapping", job))
    if job.status != "mapped":
        return redirect(_job_url("web-contacts-import-job", job))
    if request.method == "POST":
        import_jobs.import_job_start(job=job)
        return redirect(_job_url("web-contacts-import-job", job))
    preview = import_jobs.import_job_preview(job=job, viewer=request.user)
    mapped = [
        (label, job.header[job.mapping[name]])
        for name, label in imports.IMPORT_FIELDS.items()
        if job.mapping.get(name) is not None
    ]
    context = {"job": job, "preview": preview, "mapped": mapped}
    return render(request, "web/leads/import_preview.html", context)


@login_required
def contacts_import_job(request, job_id):
    """Step 4: the progress of a running import, then its report."""
    job = _job(request, job_id)
    if job.status == "uploaded":
        return redirect(_job_url("web-contacts-import-mapping", job))
    if job.status == "mapped":
        return redirect(_job_url("web-contacts-import-preview", job))
    context = {"job": job}
    if job.status == "done":
        outcome = request.GET.get("outcome", "")
        if outcome not in (imports.CREATED, imports.UPDATED, imports.REJECTED):
            outcome = ""
        rows = [row for row in job.report_rows() if not outcome or row["outcome"] == outcome]
        context["outcome"] = outcome
        context["page"] = Paginator(rows, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/leads/import_job.html", context)


@login_required
@require_POST
def contacts_import_process(request, job_id):
    """Import the next chunk. The progress bar asks for it again as soon as it is swapped in,
    until the import is done and the page is reloaded to show the report."""
    job = import_jobs.import_job_process_next_chunk(job=_job(request, job_id), actor=request.user)
    job_url = _job_url("web-contacts-import-job", job)
    if not request.htmx:
        return redirect(job_url)
    if job.status == "done":
        return HttpResponseClientRedirect(job_url)
    return render(request, "web/leads/partials/import_progress.html", {"job": job})


@login_required
def contacts_import_report(request, job_id):
    job = _job(request, job_id)
    path = job.path / "report.csv"
    if not path.exists():
        raise Http404("This import has no report yet.")
    name = f"import-report-{Path(job.filename).stem or 'contacts'}.csv"
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name)


urlpatterns = [
    path("contacts/import/", contacts_import_page, name="web-contacts-import"),
    path(
        "contacts/import/<uuid:job_id>/",
        contacts_import_job,
        name="web-contacts-import-job",
    ),
    path(
        "contacts/import/<uuid:job_id>/mapping/",
        contacts_import_mapping,
        name="web-contacts-import-mapping",
    ),
    path(
        "contacts/import/<uuid:job_id>/preview/",
        contacts_import_preview,
        name="web-contacts-import-preview",
    ),
    path(
        "contacts/import/<uuid:job_id>/process/",
        contacts_import_process,
        name="web-contacts-import-process",
    ),
    path(
        "contacts/import/<uuid:job_id>/report.csv",
        contacts_import_report,
        name="web-contacts-import-report",
    ),
]
