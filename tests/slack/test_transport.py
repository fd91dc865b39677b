"""Kept-alive connections to the Web API and to response_urls (adapters/slack/transport.py)."""

from __future__ import annotations

import os

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.app import web_client
from adapters.slack.transport import ConnectionPool, PooledWebClient, pooled, respond
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack, Scripted


def test_web_api_calls_share_one_connection(fake: FakeSlack) -> None:
    client = web_client(fake.api_url, "xoxb-test", retry_rate_limits=False)
    assert client.users_info(user="UALICE")["user"]["real_name"] == "Alice"
    assert client.users_info(user="UBOB")["user"]["real_name"] == "Bob"
    first, second = fake.of("users.info")
    assert first.peer == second.peer
    assert second.headers["authorization"] == "Bearer xoxb-test"


def test_a_connection_the_server_closed_is_replaced(fake: FakeSlack) -> None:
    """The server drops the connection after answering: the next post still arrives,
    exactly once, on a new connection (without slack_sdk's retry handlers, which would
    retry after a sleep)."""
    client = PooledWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
    fake.script(
        "chat.postMessage",
        Scripted(body={"ok": True, "channel": "C1", "ts": "1.1"}, close=True),
    )
    client.chat_postMessage(channel="C1", text="one")
    assert client.chat_postMessage(channel="C1", text="two")["ok"]
    posts = fake.of("chat.postMessage")
    assert [p.args["text"] for p in posts] == ["one", "two"]
    assert posts[0].peer != posts[1].peer


def test_errors_and_rate_limits_are_slack_sdk_errors(fake: FakeSlack) -> None:
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
    assert client.chat_postMessage(channel="C1", text="after")["ok"]  # the pool still works


def test_a_dead_server_is_a_connection_error(fake: FakeSlack) -> None:
    pool = ConnectionPool()
    url = fake.url
    fake.stop()
    from urllib.error import URLError
    from urllib.request import Request

    with pytest.raises(URLError):
        pool.urlopen(Request(url + "/api/x", data=b"a=1", method="POST"), context=None, timeout=2)


def test_response_url_posts_share_a_connection(ali: SlackUser, fake: FakeSlack) -> None:
    ali.command("today")
    first = ali.click("A")
    ali.command("quiz 1")
    second = ali.click("A")
    assert first.responses and second.responses
    a, b = fake.of("response")[-2:]
    assert a.peer == b.peer
    assert b.args["response_type"] == "ephemeral" and b.args["replace_original"] is False


def test_respond_posts_the_message(fake: FakeSlack) -> None:
    url = fake.response_url()
    resp = respond(url, {"text": "hi &amp; bye", "response_type": "ephemeral"})
    assert resp.status_code == 200 and resp.body == "ok"
    assert fake.of("response")[-1].args == {"text": "hi &amp; bye", "response_type": "ephemeral"}


def test_pooled_keeps_the_clients_settings(fake: FakeSlack) -> None:
    plain = WebClient(token="xoxb-installed", base_url=fake.api_url, team_id="T2")
    client = pooled(plain)
    assert isinstance(client, PooledWebClient) and pooled(plain) is client
    client.users_info(user="UALICE")
    call = fake.of("users.info")[-1]
    assert call.headers["authorization"] == "Bearer xoxb-installed"
    assert call.args["team_id"] == "T2"
    proxied = WebClient(token="xoxb-test", base_url=fake.api_url, proxy="http://127.0.0.1:9")
    assert pooled(proxied) is proxied  # through a proxy: slack_sdk's own transport


def test_respond_returns_slacks_refusal(fake: FakeSlack) -> None:
    fake.script("response", Scripted(status=404, body="expired_url"))
    resp = respond(fake.response_url(), {"text": "late"})
    assert resp.status_code == 404 and resp.body == "expired_url"
    assert respond(fake.response_url(), {"text": "next"}).status_code == 200


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_process_opens_its_own_connections(fake: FakeSlack) -> None:
    """A forked worker (bench.delivery forks) must not write into its parent's sockets."""
    client = web_client(fake.api_url, "xoxb-test", retry_rate_limits=False)
    client.users_info(user="UALICE")
    pid = os.fork()
    if pid == 0:  # the child: a fresh connection of its own
        try:
            client.users_info(user="UBOB")
        finally:
            os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    client.users_info(user="UALICE")
    parent_first, child, parent_again = fake.of("users.info")
    assert child.peer != parent_first.peer
    assert parent_again.peer == parent_first.peer  # the parent's connection still works
