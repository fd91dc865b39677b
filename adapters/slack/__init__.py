"""Slack adapter: `/study` with Block Kit replies, Socket Mode and HTTP mode.

See docs/architecture.md for the path of a command and a click through its modules.
"""

from adapters.slack.app import SlackApp, SlackFrontEnd, create_app, make_messenger
from adapters.slack.messenger import SlackMessenger, map_error
from adapters.slack.render import escape, render
from adapters.slack.server import serve

__all__ = [
    "SlackApp",
    "SlackFrontEnd",
    "SlackMessenger",
    "create_app",
    "escape",
    "make_messenger",
    "map_error",
    "render",
    "serve",
]
