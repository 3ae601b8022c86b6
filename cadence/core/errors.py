"""Domain errors raised by services and shown to users as a 400 with a clear message."""


class CadenceError(Exception):
    """A request that breaks a business rule. ``field`` names the input at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message}


class PermissionDeniedError(CadenceError):
    """The user may see the object but not do this to it."""
