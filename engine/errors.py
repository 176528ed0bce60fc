"""Domain errors of the case engine.

They carry no HTTP status: api/problems.py maps each class to a problem+json response.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding about a diagram, a form or submitted data, addressed to a person.

    `element` is a BPMN element id or a form field key; `line` is the source line where known.
    """

    message: str
    element: str | None = None
    line: int | None = None
    code: str = "invalid"

    def as_dict(self) -> dict[str, object]:
        return {"message": self.message, "element": self.element, "line": self.line, "code": self.code}


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    def __init__(self, message: str = "", *, problems: list[Problem] | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        self.message = message or (self.__class__.__doc__ or "").strip()
        self.problems: list[Problem] = list(problems or [])


class NotFoundError(EngineError):
    """The requested object does not exist or is not visible to you."""


class PermissionDeniedError(EngineError):
    """You may not do this."""


class ConflictError(EngineError):
    """The object changed in the meantime; the action was not applied."""


class InvalidInputError(EngineError):
    """The submitted data is not valid."""


class DiagramError(EngineError):
    """The diagram cannot be deployed."""


class FormError(EngineError):
    """The form definition is not valid."""


class SandboxViolationError(EngineError):
    """A script or expression in the diagram uses something the sandbox forbids."""


class ScriptError(EngineError):
    """A script, condition or timer expression failed while the case ran."""


class RoutingError(EngineError):
    """A task cannot be routed to an organisation."""


class AuthenticationError(EngineError):
    """Unknown user or wrong password."""


class RateLimitedError(EngineError):
    """Too many failed attempts; try again later."""

    def __init__(self, message: str = "", *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
