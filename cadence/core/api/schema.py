"""How the OpenAPI schema describes fields that drf-spectacular's defaults get wrong.

Loaded by ``cadence.core.apps.CoreConfig.ready``, so the extensions apply to every app's
serializers.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

#: A time of day as DRF reads and writes it: ``HH:MM``, seconds and fractions optional.
LOCAL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


class LocalTimeFieldExtension(OpenApiSerializerFieldExtension):
    """A ``TimeField`` is a local time of day (a work day's start, a send window's end), written
    ``09:00:00`` with no offset. drf-spectacular calls it ``format: time``, which JSON Schema
    defines as RFC 3339's full-time, offset required: a client validating answers against the
    schema refused every one. OpenAPI's ``partial-time`` is the time without offset."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "format": "partial-time",
            "pattern": LOCAL_TIME_PATTERN,
            "example": "09:00:00",
        }
