"""One place that turns every error a request can cause into a JSON answer, never a 500.

Domain errors and Django validation errors become 400 with field-level messages; database
constraint violations that slipped past validation become 400 (409 for uniqueness races) without
leaking SQL; anything else is left to DRF and, for real bugs, to the server log.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from cadence.core.errors import CadenceError, PermissionDeniedError

logger = logging.getLogger(__name__)
NON_FIELD_ERRORS_KEY = api_settings.NON_FIELD_ERRORS_KEY


def exception_handler(exc, context):
    if isinstance(exc, PermissionDeniedError):
        return Response(exc.as_dict(), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, CadenceError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(_django_error_detail(exc))
    if isinstance(exc, DataError):
        # A value the column cannot hold (a number out of range) that validation let through.
        logger.warning("Value out of the column's range answered as 400", exc_info=exc)
        return Response(
            {"detail": "A value in the request is out of range."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, IntegrityError):
        logger.info("Constraint violation answered as 400: %s", exc)
        return Response(
            {"detail": "The request conflicts with existing data or breaks a constraint."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, (OverflowError, ValueError)):
        # A value that got past validation and broke a conversion below it: the client's input
        # was at fault, but the traceback is logged because validation should have caught it.
        logger.warning("Bad value answered as 400", exc_info=exc)
        return Response(
            {"detail": "A value in the request is out of range or malformed."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)


def _django_error_detail(exc: DjangoValidationError):
    if not hasattr(exc, "error_dict"):
        return {"detail": exc.messages}
    return {
        (NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): [
            message for error in errors for message in error.messages
        ]
        for field, errors in exc.error_dict.items()
    }
