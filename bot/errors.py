"""Errors the core turns into a reply to the caller."""


class UserError(Exception):
    """Bad input or a refused action: the message tells the user what was wrong and what works.

    Raised inside a transaction, it rolls the transaction back, so nothing is half-written.
    """


class FieldError(UserError):
    """Bad input in one field of a form (or one key of the text form): a form shows the
    message beside that field, the text form as any refusal.

    `errors` holds every field's problem when there are several (a question with an empty
    prompt and a bad link): a form shows each beside its field; `message` stays the whole
    refusal the text form shows."""

    def __init__(self, field: str, message: str, errors: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.errors = errors or ((field, message),)


class OperatorError(Exception):
    """A mistake in how the bot was started (settings, tokens, ports), found where it shows.

    The message is the whole line an operator sees: what is wrong, which setting, what is
    accepted or what to check. It never holds a secret's value.
    """
