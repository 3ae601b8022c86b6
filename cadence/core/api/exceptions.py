"""One place that turns every error a request can cause into a JSON answer, never a 500.

Domain errors and Django validation errors become 400 with field-level messages; database
constraint violations that slipped past validation become 400 (409 for uniqueness races) without
leaking SQL; anything else is left to DRF and, for real bugs, to the server log.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cadence.core.errors import CadenceError, PermissionDeniedError

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, PermissionDeniedError):
        return Response(exc.as_dict(), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, CadenceError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(_django_error_detail(exc))
    if isinstance(exc, IntegrityError):
        logger.info("Constraint violation answered as 400: %s", exc)
        return Response(
            {"detail": "The request conflicts with existing data or breaks a constraint."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, (OverflowError, ValueError)) and not isinstance(exc, Http404):
        logger.info("Bad value answered as 400: %s", exc)
        return Response({"detail": "A value in the request is out of range or malformed."}, 400)
    return drf_exception_handler(exc, context)


def _django_error_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"detail": exc.messages}
