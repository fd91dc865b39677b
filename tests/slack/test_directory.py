"""Who a Slack member is: names and admin rights from users.info, cached, looked up after
the reply, and taken from the store when it already holds them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from sqlalchemy import select

from adapters.slack.app import SlackApp, create_app
from adapters.slack.directory import Directory, Profile
from bot.core import StudyBot
from bot.store.models import User
from tests.slack.conftest import SlackUser, slack_settings
from tests.slack.fakeslack import TEAM, FakeSlack


@contextmanager
def app_of_its_own(
    bot: StudyBot, fake: FakeSlack, now: list[float] | None = None
) -> Iterator[SlackApp]:
    """A second App on the same store, as another process would run it (with its own
    name cache, on a clock the test moves when `now` is given)."""
    directory = Directory(ttl=60, name_ttl=3600, clock=lambda: now[0]) if now else None
    app = create_app(bot, slack_settings(fake), directory=directory)
    try:
        yield app
    finally:
        app.frontend.drain()
        app.close()


def test_users_info_is_cached_briefly(slack, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    directory = Directory(ttl=60, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    assert directory.lookup(client, "T1", "ULEAD", "lee").is_admin
    assert directory.lookup(client, "T1", "ULEAD", "lee").name == "Lee"
    assert len(fake.of("users.info")) == 1
    fake.user("ULEAD", "Lee", admin=False)  # demoted
    now[0] = 61
    assert not directory.lookup(client, "T1", "ULEAD", "lee").is_admin
    assert len(fake.of("users.info")) == 2


def test_users_info_failure_falls_back_without_admin(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    fake.error("users.info", "user_not_found")
    p = Directory().lookup(client, "T1", "ULEAD", "lee")
    assert p.name == "lee" and p.is_admin is False


def test_names_are_kept_longer_than_admin_rights(fake: FakeSlack) -> None:
    now = [0.0]
    directory = Directory(ttl=60, name_ttl=3600, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    assert directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False).is_admin
    now[0] = 120  # admin rights are stale: not claimed, and no lookup for a plain command
    p = directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False)
    assert p == Profile("Lee", False)
    assert len(fake.of("users.info")) == 1
    assert directory.lookup(client, "T1", "ULEAD", "lee", need_admin=True).is_admin
    assert len(fake.of("users.info")) == 2  # a lead-only command looks again
    now[0] = 120 + 3601
    directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False)
    assert len(fake.of("users.info")) == 3


def test_a_returning_member_is_answered_before_their_name_is_looked_up_again(
    bot: StudyBot, fake: FakeSlack
) -> None:
    """An old cached name is used once more and refreshed after the reply: the member is
    not kept waiting for users.info, and a new name shows from the next command on."""
    now = [0.0]
    with app_of_its_own(bot, fake, now) as app:
        lee = SlackUser(app, fake, "ULEAD", "Lee")
        lee.command("setup track=associate start=2026-03-02 tz=UTC time=09:00")
        ali = SlackUser(app, fake, "UALICE", "Alice")
        ali.command("join")
        looked_up = len(fake.of("users.info"))
        now[0] = 24 * 3600.0  # the next day
        fake.user("UALICE", "Ally")  # renamed in Slack meanwhile
        ali.command("progress")
        assert "Your progress · Alice" in str(ali.last_dm())  # answered with the old name
        assert len(fake.of("users.info")) == looked_up + 1  # looked up after the reply
        ali.command("progress")
        assert "Your progress · Ally" in str(ali.last_dm())
        assert len(fake.of("users.info")) == looked_up + 1


def test_a_failed_refresh_keeps_the_old_name_for_a_while(fake: FakeSlack) -> None:
    now = [0.0]
    directory = Directory(
        ttl=60, name_ttl=3600, failure_ttl=10, clock=lambda: now[0], background=lambda f: f()
    )
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    first = directory.lookup(client, "T1", "UALICE", "alice", need_admin=False)
    assert (first.name, first.known) == ("alice", False)  # a stand-in; users.info ran after
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Alice"
    now[0] = 4000.0
    fake.error("users.info", "internal_error")
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Alice"
    assert len(fake.of("users.info")) == 2  # the refresh failed
    now[0] = 4005.0
    fake.user("UALICE", "Ally")
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Alice"
    assert len(fake.of("users.info")) == 2  # not retried on every click
    now[0] = 4011.0
    directory.lookup(client, "T1", "UALICE", "alice", need_admin=False)
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Ally"
    assert len(fake.of("users.info")) == 3


def test_answering_needs_no_admin_check(bot: StudyBot, fake: FakeSlack) -> None:
    """`today` and an answer click use the cached name even when the cached admin flag
    is stale: only lead commands look admin rights up again."""
    now = [0.0]
    with app_of_its_own(bot, fake, now) as app:
        lee = SlackUser(app, fake, "ULEAD", "Lee")
        lee.command("setup track=associate start=2026-03-02 tz=UTC time=09:00")
        before = len(fake.of("users.info"))
        now[0] = 600.0  # admin rights are stale, the name is not
        assert "Question of the day" in lee.command("today").text()
        lee.click("A")
        assert len(fake.of("users.info")) == before
        lee.command("setup time=08:00")
        assert len(fake.of("users.info")) == before + 1


def test_a_new_member_is_answered_before_users_info_and_named_after(
    bot: StudyBot, slack: SlackApp, fake: FakeSlack, lee: SlackUser
) -> None:
    """A member the process has never seen is answered with the payload's username as a
    stand-in; `users.info` runs after the reply and the leaderboard shows the real name.
    A stand-in never renames a member whose name is known."""
    fake.user("UCARO", "Carolina Ortega")
    caro = SlackUser(slack, fake, "UCARO", "Carolina Ortega")
    calls = len(fake.of("users.info"))
    today = caro.command("today")
    assert "Question of the day" in today.text()
    slack.frontend.drain()
    assert len(fake.of("users.info")) == calls + 1  # looked up once, after the reply
    assert stored_name(bot, "UCARO") == "Carolina Ortega"

    # Another process (a fresh directory) sees her first by the username only.
    with app_of_its_own(bot, fake) as other:
        fake.error("users.info", "internal_error")  # and cannot look her up
        again = SlackUser(other, fake, "UCARO", "Carolina Ortega")
        assert "Question of the day" in again.command("today").text()
    assert stored_name(bot, "UCARO") == "Carolina Ortega"  # not "carolina ortega"


def stored_name(bot: StudyBot, user_id: str) -> str | None:
    with bot.store.transaction(read_only=True) as s:
        return s.scalar(select(User.display_name).where(User.external_id == user_id))


def test_a_member_the_store_knows_is_not_looked_up_by_a_new_process(
    bot: StudyBot, slack: SlackApp, fake: FakeSlack, lee: SlackUser
) -> None:
    """A second process (a fresh directory) takes the name the store holds instead of
    asking users.info again, and answers with it from the next command on."""
    fake.user("UDANA", "Dana Scully")
    SlackUser(slack, fake, "UDANA", "Dana Scully").command("today")
    slack.frontend.drain()
    assert stored_name(bot, "UDANA") == "Dana Scully"
    with app_of_its_own(bot, fake) as other:
        calls = len(fake.of("users.info"))
        dana = SlackUser(other, fake, "UDANA", "Dana Scully")
        dana.command("today")
        other.frontend.drain()
        dana.command("progress")
        other.frontend.drain()
        assert len(fake.of("users.info")) == calls  # the store's name was enough
        profile = other.frontend.directory.lookup(
            WebClient(token="xoxb-test", base_url=fake.api_url),
            TEAM,
            "UDANA",
            "dana",
            need_admin=False,
        )
        assert (profile.name, profile.known) == ("Dana Scully", True)
    assert stored_name(bot, "UDANA") == "Dana Scully"


def test_a_known_members_first_click_in_a_new_process_reads_nothing_more(
    bot: StudyBot, slack: SlackApp, fake: FakeSlack, lee: SlackUser
) -> None:
    """The answer's own transaction reads the member's stored name, and the core hands it
    to the directory: after the reply neither the store nor users.info is asked again
    (a burst of first clicks after a restart costs one transaction each, not two)."""
    fake.user("UDANA", "Dana Scully")
    SlackUser(slack, fake, "UDANA", "Dana Scully").command("join")
    slack.frontend.drain()
    with app_of_its_own(bot, fake) as other:
        asked: list[tuple[str, str]] = []
        stored = other.frontend.directory.stored
        assert stored is not None

        def counting(team: str, user: str) -> str | None:
            asked.append((team, user))
            return stored(team, user)

        other.frontend.directory.stored = counting
        calls = len(fake.of("users.info"))
        dana = SlackUser(other, fake, "UDANA", "dana")  # the payload's username only
        today = dana.command("today")
        dana.click("A", today.blocks)
        other.frontend.drain()
        assert asked == [] and len(fake.of("users.info")) == calls
        assert "Dana Scully" in dana.command("leaderboard").text()
    assert stored_name(bot, "UDANA") == "Dana Scully"  # never renamed with the stand-in


def test_a_name_from_the_store_does_not_stand_for_admin_rights(fake: FakeSlack) -> None:
    """A name the store held says nothing of admin rights: a lead command right after
    still asks users.info, and a workspace admin is one."""
    now = [0.0]
    directory = Directory(ttl=60, name_ttl=3600, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    directory.met("T1", "ULEAD", "Lee")
    p = directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False)
    assert (p.name, p.known, p.is_admin) == ("Lee", True, False)
    assert fake.of("users.info") == []
    assert directory.lookup(client, "T1", "ULEAD", "lee", need_admin=True).is_admin
    assert len(fake.of("users.info")) == 1
    directory.met("T1", "ULEAD", "Old name")  # users.info's answer is not overwritten
    assert directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False).name == "Lee"
