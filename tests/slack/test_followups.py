"""What follows the ack: response_url posts over kept-alive connections (followups.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk.errors import SlackApiError

from adapters.slack.app import SlackApp, web_client
from adapters.slack.followups import WORKERS, FollowUps, ResponseUrls
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack, Scripted


def test_response_url_posts_share_a_connection(ali: SlackUser, fake: FakeSlack) -> None:
    ali.command("today")
    first = ali.click("A")
    ali.command("quiz 1")
    second = ali.click("A")
    assert first.responses and second.responses
    a, b = fake.of("response")[-2:]
    assert a.peer == b.peer
    assert b.args["response_type"] == "ephemeral" and b.args["replace_original"] is False


def test_a_response_url_post_sends_the_message_as_json(fake: FakeSlack) -> None:
    resp = ResponseUrls().post(fake.response_url(), {"text": "hi &amp; bye", "x": 1})
    assert resp.status == 200 and resp.data == b"ok"
    got = fake.of("response")[-1]
    assert got.args == {"text": "hi &amp; bye", "x": 1}
    assert got.headers["content-type"].startswith("application/json")


def test_slacks_refusal_is_returned_and_the_next_post_works(fake: FakeSlack) -> None:
    urls = ResponseUrls()
    fake.script("response", Scripted(status=404, body="expired_url"))
    resp = urls.post(fake.response_url(), {"text": "late"})
    assert resp.status == 404 and resp.data == b"expired_url"
    assert urls.post(fake.response_url(), {"text": "next"}).status == 200


def test_a_connection_the_server_closed_is_replaced(fake: FakeSlack) -> None:
    """Slack drops the kept-alive connection after answering: the next reply still arrives,
    exactly once, on a new connection."""
    urls = ResponseUrls()
    fake.script("response", Scripted(body="ok", close=True))
    urls.post(fake.response_url(), {"text": "one"})
    assert urls.post(fake.response_url(), {"text": "two"}).status == 200
    posts = fake.of("response")
    assert [p.args["text"] for p in posts] == ["one", "two"]
    assert posts[0].peer != posts[1].peer


def test_web_api_errors_and_rate_limits_are_slack_sdk_errors(fake: FakeSlack) -> None:
    client = web_client(fake.api_url, "xoxb-test", retry_rate_limits=False)
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="x")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["retry-after"] == "7"
    fake.error("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="x")
    assert e.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="after")["ok"]


def test_name_look_ups_run_on_one_thread_after_the_reply() -> None:
    import threading

    from adapters.slack.ack import AckGuard

    followups = FollowUps(workers=2)
    ran: list[str] = []
    guard = AckGuard()
    with followups.replying(guard):
        followups.look_up_later(lambda: ran.append(threading.current_thread().name))
        followups.look_up_later(lambda: ran.append(threading.current_thread().name))
    assert ran == []  # held until the ack is sent
    guard.claim()
    guard.release()
    followups.drain()
    assert len(ran) == 2 and all(n.startswith("studybot-names") for n in ran)
    followups.close()


def test_work_after_the_ack_that_fails_is_logged(
    slack: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    from adapters.slack.ack import AckGuard

    def broken() -> None:
        raise RuntimeError("chat.postMessage exploded")

    slack.frontend.followups.after_ack(AckGuard(released=True), broken)
    slack.frontend.drain()
    assert "Slack work after an ack failed" in caplog.text
    assert "chat.postMessage exploded" in caplog.text


def test_every_worker_keeps_its_connection_through_a_burst(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """As many posts at once as there are workers, twice: the second round reuses the
    first round's connections, and none is thrown away with urllib3's warning."""
    urls = ResponseUrls()
    fake.script("response", *[Scripted(body="ok", delay=0.2)] * WORKERS)  # all open at once
    with ThreadPoolExecutor(WORKERS) as pool:
        for _ in range(2):
            list(pool.map(lambda n: urls.post(fake.response_url(), {"n": n}), range(WORKERS)))
    urls.close()
    peers = [p.peer for p in fake.of("response")]
    assert len(peers) == 2 * WORKERS
    assert set(peers[WORKERS:]) <= set(peers[:WORKERS])  # the second round opened none
    assert "Connection pool is full" not in caplog.text
