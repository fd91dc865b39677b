"""Errors the core turns into a reply to the caller."""


class UserError(Exception):
    """Bad input or a refused action: the message tells the user what was wrong and what works.

    Raised inside a transaction, it rolls the transaction back, so nothing is half-written.
    """


class FieldError(UserError):
    """Bad input in one field of a form (or one key of the text form): a form shows the
    message beside that field, the text form as any refusal."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OperatorError(Exception):
    """A mistake in how the bot was started (settings, tokens, ports), found where it shows.

    The message is the whole line an operator sees: what is wrong, which setting, what is
    accepted or what to check. It never holds a secret's value.
    """
