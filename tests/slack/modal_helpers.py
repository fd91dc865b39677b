"""Driving Slack modals through the real App: the payloads Slack sends when a member
submits a modal, types into an external select, or uses a message shortcut, built from
the view the bot opened (so a test submits what the member saw, changed where it says)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack.ack import AckGuard, guarded
from tests.slack.conftest import SlackUser, signed_headers
from tests.slack.fakeslack import FakeSlack


@dataclass
class Submitted:
    """What the member saw after submitting: the ack (errors, an update) and the view."""

    response: BoltResponse
    body: dict[str, Any]

    @property
    def errors(self) -> dict[str, str]:
        return dict(self.body.get("errors") or {}) if self.action == "errors" else {}

    @property
    def action(self) -> str:
        return str(self.body.get("response_action") or "")


def opened_view(fake: FakeSlack, n: int = 1) -> dict[str, Any]:
    """The view of the `n`th views.open (waiting for it: it follows the ack)."""
    call = fake.wait_for("views.open", n)[n - 1]
    view = call.args["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b.get("block_id")}


def _initial(element: dict[str, Any]) -> dict[str, Any]:
    """An input's state as Slack reports it for an untouched field."""
    kind = element["type"]
    out: dict[str, Any] = {"type": kind}
    if kind == "plain_text_input":
        out["value"] = element.get("initial_value")
    elif kind in ("static_select", "external_select"):
        out["selected_option"] = element.get("initial_option")
    elif kind == "checkboxes":
        out["selected_options"] = element.get("initial_options") or []
    elif kind == "datepicker":
        out["selected_date"] = element.get("initial_date")
    elif kind == "timepicker":
        out["selected_time"] = element.get("initial_time")
    elif kind == "multi_users_select":
        out["selected_users"] = element.get("initial_users") or []
    elif kind == "file_input":
        out["files"] = []
    return out


def _changed(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """An input's state after the member set it to `value` (text form's words, or the
    file objects of a file input)."""
    kind = element["type"]
    out: dict[str, Any] = {"type": kind}
    if kind == "plain_text_input":
        out["value"] = value or None
    elif kind in ("static_select", "external_select"):
        out["selected_option"] = (
            {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
        )
    elif kind == "checkboxes":
        out["selected_options"] = [
            {"text": {"type": "plain_text", "text": v}, "value": v}
            for v in str(value).split(",")
            if v
        ]
    elif kind == "datepicker":
        out["selected_date"] = value or None
    elif kind == "timepicker":
        out["selected_time"] = value or None
    elif kind == "multi_users_select":
        out["selected_users"] = [v for v in str(value).split(",") if v]
    elif kind == "file_input":
        out["files"] = value
    return out


def state_of(view: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values`: each field as opened, those in `changes` (by field name) set."""
    values: dict[str, Any] = {}
    for bid, block in blocks_by_id(view).items():
        if block.get("type") != "input":
            continue
        element = block["element"]
        name = bid.removeprefix("f_")
        state = _changed(element, changes[name]) if name in changes else _initial(element)
        values[bid] = {element["action_id"]: state}
    return values


def submission_body(u: SlackUser, view: dict[str, Any], **changes: Any) -> str:
    """The signed-to-be form body of a `view_submission` of `view` by member `u`."""
    payload = {
        "type": "view_submission",
        "team": {"id": u.team, "domain": "fake"},
        "user": {
            "id": u.user,
            "username": u.name.lower(),
            "name": u.name.lower(),
            "team_id": u.team,
        },
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.9",
        "view": {
            **view,
            "id": view.get("id", "V1"),
            "hash": "h1",
            "state": {"values": state_of(view, changes)},
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def submit(
    u: SlackUser, view: dict[str, Any], guard: AckGuard | None = None, **changes: Any
) -> Submitted:
    """Submit the modal `view` as member `u`, with `changes` made to its fields; with a
    `guard`, under that ack guard (one the transport expired: the deadline passed)."""
    raw = submission_body(u, view, **changes)
    if guard is None:
        resp = u.dispatch(raw)
    else:
        req = BoltRequest(body=raw, headers=signed_headers(raw))
        guarded(req, guard)
        resp = u.slack.app.dispatch(req)
        guard.release()
    u.slack.frontend.drain()
    body = json.loads(resp.body) if resp.body else {}
    return Submitted(resp, body)


def shortcut(u: SlackUser, message: dict[str, Any]) -> str:
    """Use "Report this question" on `message` as member `u`; the response_url it gave."""
    url = u.fake.response_url()
    payload = {
        "type": "message_action",
        "callback_id": "report_question",
        "trigger_id": "1.2.7",
        "team": {"id": u.team, "domain": "fake"},
        "user": {
            "id": u.user,
            "username": u.name.lower(),
            "name": u.name.lower(),
            "team_id": u.team,
        },
        "channel": {"id": u.channel, "name": "study"},
        "message": {"type": "message", "ts": "1700000000.000001", **message},
        "message_ts": "1700000000.000001",
        "response_url": url,
        "token": "legacy",
        "action_ts": "1700000002.000001",
    }
    resp = u.dispatch(urlencode({"payload": json.dumps(payload)}))
    assert resp.status == 200, resp.body
    u.slack.frontend.drain()
    return url


def suggest(u: SlackUser, view: dict[str, Any], action_id: str, typed: str) -> list[str]:
    """What an external select offers as `typed` is typed into it."""
    payload = {
        "type": "block_suggestion",
        "user": {
            "id": u.user,
            "username": u.name.lower(),
            "name": u.name.lower(),
            "team_id": u.team,
        },
        "team": {"id": u.team, "domain": "fake"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "view", "view_id": "V1"},
        "view": view,
        "action_id": action_id,
        "block_id": "f_tz",
        "value": typed,
    }
    resp = u.dispatch(urlencode({"payload": json.dumps(payload)}))
    assert resp.status == 200, resp.body
    return [o["value"] for o in json.loads(resp.body)["options"]]


def posted_to(fake: FakeSlack, user: str, method: str = "chat.postEphemeral") -> str:
    """Every message of `method` the bot sent `user`, as one JSON text."""
    calls = fake.of(method)
    return json.dumps(
        [c.args for c in calls if c.args.get("user") in (user, None)], ensure_ascii=False
    )
