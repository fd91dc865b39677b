"""Slack adapter: `/study` with Block Kit replies, Socket Mode and HTTP mode (docs/architecture.md)."""

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
