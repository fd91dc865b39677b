"""A core `Form` as a Slack modal, and a modal's submission back into the form's values.

The modal is built with slack_sdk's block models (validated by `View.to_dict()`; the
file input, which they do not model, as its JSON). Each field is an input block whose
block id names the field, so `response_action: errors` can point at it. Kinds:

- TEXT / LONG_TEXT: plain_text_input (multiline for long text)
- SELECT: static_select; CHECKBOXES: checkboxes; DATE: datepicker; TIME: timepicker
- USERS: multi_users_select; FILE: file_input (one file)
- TIMEZONE: external_select, its options served by the `options` listener from
  zoneinfo's IANA names filtered by what was typed (`timezone_options`)

The modal's `private_metadata` carries what its submission needs without the store: the
group's channel, the command, what the form is about (`fixed`), each field's kind, and
the optional fields that were filled in when it opened. A submission reads each field as
the text form's words (`mon,wed`, `09:00`, user ids comma-joined); an optional field that
was set and is now empty sends `none`, the text form's word for clearing it (`setup
exam=none`), since an empty value means "unchanged".
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from adapters.slack.render import render, truncate
from bot.forms import FieldKind, Form, FormField
from bot.forms import Option as FormOption
from bot.seam import Reply

FORM_CALLBACK = "studybot_form"  # every form's modal: the metadata says which command
TZ_ACTION = "studybot_tz"  # the timezone select's action id, matched by the options listener
VALUE = "value"  # the action id of every other input
CLEARED = "none"
TITLE, BUTTON, LABEL, HINT, OPTION_TEXT, OPTION_VALUE = 24, 24, 2000, 2000, 75, 150
MAX_OPTIONS, MAX_CHECKBOXES, MAX_VIEW_BLOCKS = 100, 10, 100
METADATA = 3000  # Slack's limit on private_metadata
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{1,63}$")


@dataclass(frozen=True)
class Opened:
    """What a form's modal carries in its private_metadata for its submission."""

    channel_id: str
    command: str
    fixed: tuple[tuple[str, str], ...]
    kinds: tuple[tuple[str, FieldKind], ...]  # each field's name and kind, in order
    clear: tuple[str, ...] = ()  # optional fields set when opened

    def encode(self) -> str:
        data = {
            "channel": self.channel_id,
            "form": self.command,
            "fixed": [list(kv) for kv in self.fixed],
            "kinds": [[name, str(kind)] for name, kind in self.kinds],
            "clear": list(self.clear),
        }
        out = json.dumps(data, separators=(",", ":"))
        if len(out) > METADATA:
            raise ValueError("the form's metadata is over Slack's 3000 characters")
        return out

    @classmethod
    def decode(cls, raw: str) -> Opened | None:
        """The modal's metadata, or None for anything we did not write."""
        try:
            data = json.loads(raw or "{}")
            channel = str(data["channel"])
            return cls(
                channel if _CHANNEL_ID.match(channel) else "",
                str(data["form"]),
                tuple((str(k), str(v)) for k, v in data.get("fixed", [])),
                tuple((str(n), FieldKind(k)) for n, k in data.get("kinds", [])),
                tuple(str(n) for n in data.get("clear", [])),
            )
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def has_file(self) -> bool:
        return any(kind is FieldKind.FILE for _, kind in self.kinds)


def block_id(name: str) -> str:
    return f"f_{name}"


def form_view(form: Form, channel_id: str) -> dict[str, Any]:
    """The modal of a form, opened with `views.open`."""
    opened = Opened(
        channel_id,
        form.command,
        form.fixed,
        tuple((f.name, f.kind) for f in form.fields),
        tuple(f.name for f in form.fields if f.optional and f.initial),
    )
    return View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=PlainTextObject(text=truncate(form.title, TITLE)),
        submit=PlainTextObject(text=truncate(form.submit, BUTTON)),
        close=PlainTextObject(text="Cancel"),
        private_metadata=opened.encode(),
        blocks=[_input(f) for f in form.fields],
    ).to_dict()


def working_view(title: str, line: str) -> dict[str, Any]:
    """What a submitted modal shows while its work is done after the ack (reading a file)."""
    return View(
        type="modal",
        callback_id=FORM_CALLBACK + "_working",
        title=PlainTextObject(text=truncate(title, TITLE)),
        close=PlainTextObject(text="Close"),
        blocks=[{"type": "section", "text": {"type": "plain_text", "text": line}}],
    ).to_dict()


def result_view(title: str, reply: Reply, channel_id: str) -> dict[str, Any]:
    """A submitted modal showing what its work answered (what was imported, or why
    nothing was), under the form's title."""
    return View(
        type="modal",
        callback_id=FORM_CALLBACK + "_done",
        title=PlainTextObject(text=truncate(title, TITLE)),
        close=PlainTextObject(text="Close"),
        private_metadata=json.dumps({"channel": channel_id}, separators=(",", ":")),
        blocks=render(reply).blocks[:MAX_VIEW_BLOCKS],
    ).to_dict()


def _input(f: FormField) -> Any:
    label = PlainTextObject(text=truncate(f.label, LABEL))
    hint = PlainTextObject(text=truncate(f.hint, HINT)) if f.hint else None
    if f.kind is FieldKind.FILE:  # not in slack_sdk's models: its JSON
        element: dict[str, Any] = {"type": "file_input", "action_id": VALUE, "max_files": 1}
        if f.options:
            element["filetypes"] = [o.value for o in f.options]
        block: dict[str, Any] = {
            "type": "input",
            "block_id": block_id(f.name),
            "label": label.to_dict(),
            "element": element,
            "optional": f.optional,
        }
        if hint is not None:
            block["hint"] = hint.to_dict()
        return block
    return InputBlock(
        block_id=block_id(f.name),
        label=label,
        element=_element(f),
        hint=hint,
        optional=f.optional,
    )


def _element(f: FormField) -> Any:
    initial = f.initial or None
    if f.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
        return PlainTextInputElement(
            action_id=VALUE, initial_value=initial, multiline=f.kind is FieldKind.LONG_TEXT
        )
    if f.kind is FieldKind.SELECT:
        options = [_option(o) for o in f.options[:MAX_OPTIONS]]
        chosen = next((o for o in options if o.value == f.initial), None)
        return StaticSelectElement(action_id=VALUE, options=options, initial_option=chosen)
    if f.kind is FieldKind.CHECKBOXES:
        options = [_option(o) for o in f.options[:MAX_CHECKBOXES]]
        picked = set(f.initial.split(","))
        initial_options = [o for o in options if o.value in picked] or None
        return CheckboxesElement(action_id=VALUE, options=options, initial_options=initial_options)
    if f.kind is FieldKind.DATE:
        return DatePickerElement(action_id=VALUE, initial_date=initial)
    if f.kind is FieldKind.TIME:
        return TimePickerElement(action_id=VALUE, initial_time=initial)
    if f.kind is FieldKind.USERS:
        users = [u for u in f.initial.split(",") if _USER_ID.match(u)] or None
        return UserMultiSelectElement(action_id=VALUE, initial_users=users)
    if f.kind is FieldKind.TIMEZONE:
        start = Option(text=initial, value=initial) if initial else None
        return ExternalDataSelectElement(
            action_id=TZ_ACTION, initial_option=start, min_query_length=1
        )
    raise ValueError(f"no Slack input for a {f.kind} field")


def _option(o: FormOption) -> Option:
    return Option(text=truncate(o.label, OPTION_TEXT), value=o.value[:OPTION_VALUE])


# --------------------------------------------------------------------------- submission


@dataclass(frozen=True)
class SlackFile:
    """A file a member gave a file input: where the bot may download it."""

    name: str
    url: str


def values_of(opened: Opened, state: Mapping[str, Any]) -> tuple[dict[str, str], list[SlackFile]]:
    """A submission's values in the text form's words, and the files it carries."""
    values: dict[str, str] = {}
    files: list[SlackFile] = []
    for name, kind in opened.kinds:
        entry = state.get(block_id(name)) or {}
        element: Mapping[str, Any] = next(iter(entry.values()), {}) if entry else {}
        if kind is FieldKind.FILE:
            files.extend(_files(element.get("files") or []))
            continue
        value = _value(kind, element)
        if not value and name in opened.clear:
            value = CLEARED
        values[name] = value
    return values, files


def _value(kind: FieldKind, element: Mapping[str, Any]) -> str:
    if kind in (FieldKind.SELECT, FieldKind.TIMEZONE):
        return str((element.get("selected_option") or {}).get("value") or "")
    if kind is FieldKind.CHECKBOXES:
        return ",".join(str(o.get("value")) for o in element.get("selected_options") or [])
    if kind is FieldKind.DATE:
        return str(element.get("selected_date") or "")
    if kind is FieldKind.TIME:
        return str(element.get("selected_time") or "")
    if kind is FieldKind.USERS:
        return ",".join(str(u) for u in element.get("selected_users") or [])
    return str(element.get("value") or "")


def _files(raw: Iterable[Any]) -> list[SlackFile]:
    out = []
    for f in raw:
        if isinstance(f, dict):
            url = str(f.get("url_private_download") or f.get("url_private") or "")
            if url:
                out.append(SlackFile(str(f.get("name") or f.get("title") or "file"), url))
    return out


def errors_of(reply: Reply, opened: Opened) -> dict[str, str]:
    """A refused submission's problems by the block id of their field, for
    `response_action: errors`: a problem of the whole form (or of a key the form has
    no field for) stands beside the first field. Empty when Slack cannot show them so."""
    names = [name for name, _ in opened.kinds]
    if not reply.refused or not names:
        return {}
    problems = reply.field_errors or (("", reply.plain_text()),)
    out: dict[str, str] = {}
    for field, message in problems:
        bid = block_id(field if field in names else names[0])
        out[bid] = truncate(f"{out[bid]} {message}" if bid in out else message, HINT)
    return out


# --------------------------------------------------------------------------- timezones


def timezone_options(query: str) -> list[dict[str, Any]]:
    """The IANA names `setup tz=` accepts that match what was typed (any case; a space
    for an underscore), those starting with it first, at most Slack's 100."""
    q = query.strip().lower().replace(" ", "_")
    names = _zones()
    hits = [n for n in names if q in n.lower()] if q else list(names)
    hits.sort(
        key=lambda n: (not n.lower().startswith(q), not n.lower().split("/")[-1].startswith(q), n)
    )
    return [Option(text=n, value=n).to_dict() for n in hits[:MAX_OPTIONS]]


@functools.cache
def _zones() -> tuple[str, ...]:
    """The names `parse_tz` accepts (Area/City, and UTC), the Etc/ offsets left out."""
    named = (
        z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    )
    return (*sorted(named), "UTC")


# --------------------------------------------------------------------------- messages


def message_text(message: Mapping[str, Any]) -> str:
    """Every word a message shows: its blocks' texts (headers, sections and their fields,
    contexts, rich text), then its fallback text."""
    parts: list[str] = []
    for block in message.get("blocks") or []:
        if isinstance(block, dict):
            parts.extend(_texts(block))
    parts.append(str(message.get("text") or ""))
    return "\n".join(p for p in parts if p)


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = []
        if isinstance(node.get("text"), str) and node.get("type") in (
            "plain_text",
            "mrkdwn",
            "text",
        ):
            out.append(node["text"])
        for key in ("text", "fields", "elements"):
            child = node.get(key)
            if isinstance(child, dict | list):
                out.extend(_texts(child))
        return out
    if isinstance(node, list):
        return [t for child in node for t in _texts(child)]
    return []
