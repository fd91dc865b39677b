"""The clock's Messenger: post, update, dm, pictures, and the error mapping."""

from __future__ import annotations

import pytest

from adapters.slack.app import SlackApp, web_client
from adapters.slack.messenger import SlackMessenger
from bot.seam import (
    ChannelTarget,
    Heading,
    Image,
    KeyedMessenger,
    LinkingMessenger,
    MessageRef,
    Messenger,
    Paragraph,
    RateLimited,
    Reply,
    TargetGone,
    Transient,
    UserTarget,
    Visibility,
    text,
)
from tests.slack.fakeslack import TEAM, FakeSlack, Scripted

REPLY = Reply.of(
    Heading("Question of the day"),
    Paragraph(text("Pick one <!here>")),
    visibility=Visibility.CHANNEL,
)


def test_is_the_cores_messenger(slack: SlackApp) -> None:
    assert isinstance(slack.messenger, Messenger)


def test_post_update_and_dm(slack: SlackApp, fake: FakeSlack) -> None:
    m = slack.messenger
    ref = m.post(ChannelTarget(TEAM, "C1"), REPLY)
    assert ref.workspace_id == TEAM and ref.channel_id == "C1" and ref.message_id
    post = fake.of("chat.postMessage")[-1]
    assert post.headers["authorization"] == "Bearer xoxb-test"
    assert "&lt;!here&gt;" in str(post.args["blocks"])
    m.update(ref, Reply.of(Heading("3 answered so far")))
    upd = fake.of("chat.update")[-1].args
    assert upd["ts"] == ref.message_id and upd["channel"] == "C1"
    assert "3 answered so far" in upd["text"]
    dm = m.dm(UserTarget(TEAM, "UALICE"), REPLY)
    assert dm.channel_id == "DUALICE"
    assert fake.of("conversations.open")[-1].args["users"] == "UALICE"


def test_pictures_are_uploaded(slack: SlackApp, fake: FakeSlack) -> None:
    reply = Reply.of(Heading("Weekly board"), Image(b"\x89PNG" + b"0" * 100, "board", "b.png"))
    slack.messenger.post(ChannelTarget(TEAM, "C1"), reply)
    assert fake.of("files.getUploadURLExternal")[-1].args["filename"] == "b.png"
    assert fake.of("upload")[-1].args["bytes"] == 104
    done = fake.of("files.completeUploadExternal")[-1].args
    assert done["channel_id"] == "C1"


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "account_inactive"]
)
def test_gone_targets(slack: SlackApp, fake: FakeSlack, error: str) -> None:
    fake.error("chat.postMessage", error)
    with pytest.raises(TargetGone):
        slack.messenger.post(ChannelTarget(TEAM, "C1"), REPLY)


def test_dm_closed_is_gone(slack: SlackApp, fake: FakeSlack) -> None:
    fake.error("conversations.open", "cannot_dm_bot")
    with pytest.raises(TargetGone):
        slack.messenger.dm(UserTarget(TEAM, "UBOT2"), REPLY)


def test_rate_limited_with_retry_after(slack: SlackApp, fake: FakeSlack) -> None:
    """No automatic retry here: the delivery worker waits Retry-After itself."""
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(RateLimited) as e:
        slack.messenger.post(ChannelTarget(TEAM, "C1"), REPLY)
    assert e.value.retry_after == 7.0
    assert len(fake.of("chat.postMessage")) == 1
    fake.error("chat.update", "ratelimited")
    with pytest.raises(RateLimited):
        slack.messenger.update(MessageRef(TEAM, "C1", "1.2"), REPLY)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(slack: SlackApp, fake: FakeSlack, status: int) -> None:
    fake.script("chat.postMessage", Scripted(status=status, body="upstream trouble"))
    with pytest.raises(Transient):
        slack.messenger.post(ChannelTarget(TEAM, "C1"), REPLY)


def test_slack_side_errors_are_transient(slack: SlackApp, fake: FakeSlack) -> None:
    fake.error("chat.postMessage", "service_unavailable")
    with pytest.raises(Transient):
        slack.messenger.post(ChannelTarget(TEAM, "C1"), REPLY)


def test_timeouts_are_transient(fake: FakeSlack) -> None:
    client = web_client(fake.api_url, "xoxb-test", retry_rate_limits=False)
    client.timeout = 0.2
    client.retry_handlers = []
    fake.script("chat.postMessage", Scripted(delay=1.0))
    with pytest.raises(Transient):
        SlackMessenger(lambda _ws: client).post(ChannelTarget(TEAM, "C1"), REPLY)


def test_unreachable_is_transient() -> None:
    client = web_client("http://127.0.0.1:9/api/", "xoxb-test", retry_rate_limits=False)
    client.retry_handlers = []
    with pytest.raises(Transient):
        SlackMessenger(lambda _ws: client).post(ChannelTarget(TEAM, "C1"), REPLY)


def test_unknown_workspace_is_gone() -> None:
    def nowhere(ws: str):  # type: ignore[no-untyped-def]
        raise LookupError(ws)

    with pytest.raises(TargetGone):
        SlackMessenger(nowhere).post(ChannelTarget("T404", "C1"), REPLY)


def test_keyed_post_is_found_again(slack: SlackApp, fake: FakeSlack) -> None:
    """A worker that died mid-post asks before posting again (KeyedMessenger)."""
    m = slack.messenger
    assert isinstance(m, KeyedMessenger)
    target = ChannelTarget(TEAM, "C1")
    assert m.find_posted(target, "daily:7:2026-03-02") is None
    ref = m.post_keyed(target, REPLY, "daily:7:2026-03-02")
    meta = fake.of("chat.postMessage")[-1].args["metadata"]
    assert meta == {"event_type": "studybot_post", "event_payload": {"key": "daily:7:2026-03-02"}}
    m.post(target, REPLY)  # a later, unkeyed post does not hide it
    assert m.find_posted(target, "daily:7:2026-03-02") == ref
    assert m.find_posted(target, "daily:7:2026-03-03") is None


@pytest.mark.parametrize("error", ["not_in_channel", "missing_scope"])
def test_unreadable_history_means_cannot_tell(slack: SlackApp, fake: FakeSlack, error: str) -> None:
    fake.error("conversations.history", error)
    assert slack.messenger.find_posted(ChannelTarget(TEAM, "C1"), "k") is None


def test_history_errors_still_map(slack: SlackApp, fake: FakeSlack) -> None:
    fake.rate_limit("conversations.history", retry_after=3)
    with pytest.raises(RateLimited):
        slack.messenger.find_posted(ChannelTarget(TEAM, "C1"), "k")
    fake.error("conversations.history", "channel_not_found")
    with pytest.raises(TargetGone):
        slack.messenger.find_posted(ChannelTarget(TEAM, "C1"), "k")


def test_messenger_entry_point(fake: FakeSlack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`studybot.messenger` factory: a messenger when Slack is configured, else None."""
    from adapters.slack.app import make_messenger
    from tests.slack.conftest import slack_settings

    none = slack_settings(fake, SLACK_BOT_TOKEN=None)
    assert make_messenger(none) is None
    m = make_messenger(slack_settings(fake))
    assert m is not None
    m.post(ChannelTarget(TEAM, "C1"), REPLY)
    assert fake.of("chat.postMessage")[-1].headers["authorization"] == "Bearer xoxb-test"
    pytest.importorskip("greenlet")
    oauth = slack_settings(
        fake,
        SLACK_BOT_TOKEN=None,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="s",
        STUDYBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}",
    )
    om = make_messenger(oauth)
    assert om is not None
    with pytest.raises(TargetGone):  # nothing installed yet
        om.post(ChannelTarget("T2", "C1"), REPLY)


def test_a_posted_message_is_linked_by_its_permalink_once(slack: SlackApp, fake: FakeSlack) -> None:
    """A reminder points at the day's post: every member's reminder asks for one link."""
    m = slack.messenger
    assert isinstance(m, LinkingMessenger)
    ref = m.post(ChannelTarget(TEAM, "C1"), REPLY)
    url = f"https://fake.slack.com/archives/C1/p{ref.message_id.replace('.', '')}"
    assert m.link(ref) == url and m.link(ref) == url
    assert [c.args for c in fake.of("chat.getPermalink")] == [
        {"channel": "C1", "message_ts": ref.message_id}
    ]


def test_a_link_slack_cannot_give_is_none(slack: SlackApp, fake: FakeSlack) -> None:
    fake.error("chat.getPermalink", "message_not_found")
    assert slack.messenger.link(MessageRef(TEAM, "C1", "1.2")) is None
