"""Errors the core turns into a reply to the caller."""


class UserError(Exception):
    """Bad input or a refused action: the message tells the user what was wrong and what works.

    Raised inside a transaction, it rolls the transaction back, so nothing is half-written.
    """
