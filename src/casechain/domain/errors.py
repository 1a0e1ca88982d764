"""One error hierarchy; the CLI maps each class to an exit code of CLI.md."""


class CasechainError(Exception):
    """Base of every error a user can cause. ``str(err)`` is the message shown."""

    exit_code = 1


class Refused(CasechainError):
    """The rules say no: illegal move, unmet checklist item, wrong role or jurisdiction."""

    exit_code = 1

    def __init__(self, reasons):
        if isinstance(reasons, str):
            reasons = [reasons]
        self.reasons = list(reasons)
        super().__init__("\n".join(self.reasons))


class BadInput(CasechainError):
    """Unknown case/officer/item, malformed file or date, bad option value."""

    exit_code = 2


class Conflict(CasechainError):
    """The case changed since it was read (a concurrent edit); retry."""

    exit_code = 3


class IntegrityFailure(CasechainError):
    """``audit verify`` found a broken chain."""

    exit_code = 4
