"""Error classes shared by the MLP front ends.

Every error a user can cause derives from :class:`MLPError`; front ends turn it
into a one-line message (CLI), a ``UsageError`` (magics) or a 4xx (HTTP).
"""


class MLPError(Exception):
    """A user-facing error with a one-line message that says what to do."""

    status_code = 400


class ConfigError(MLPError):
    """The platform configuration (profiles, environment) is invalid."""


class NotFoundError(MLPError):
    """The requested object does not exist (or is not visible to the caller)."""

    status_code = 404


class ForbiddenError(MLPError):
    """The caller is authenticated but may not touch this object."""

    status_code = 403
