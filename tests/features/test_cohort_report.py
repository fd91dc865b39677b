"""`/study cohort`: the lead's private report on the group."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image as PILImage

from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.features.cohort_report import CohortPage
from bot.seam import Action, Image, Visibility
from tests import seeding
from tests.helpers import Chat, FakeClock, answer_today
from tests.seeding import T0, seed_wrong_key

PACE = r"(on track|\d+ days? (behind|ahead))"


def member_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• ") and " — " in line]


def line_of(text: str, name: str) -> str:
    (line,) = [x for x in member_lines(text) if x.startswith(f"• {name} — ")]
    return line


def test_lead_sees_every_member_quiet_ones_first_and_a_chart(
    bot: StudyBot, lead: Chat, alice: Chat, content: Content, clock: FakeClock
) -> None:
    bob = Chat(bot, user="bob", name="Bob")
    quinn = Chat(bot, user="quinn", name="Quinn")
    for c in (bob, quinn):
        c.send("/study join")
    for c in (alice, bob, quinn):  # Mon 2 Mar
        answer_today(c, content, right=True)
    clock.set(2026, 3, 3, 12)
    answer_today(bob, content, right=False)
    clock.set(2026, 3, 9, 12)
    carol = Chat(bot, user="carol", name="Carol")
    carol.send("/study join")
    for day in (9, 10, 11):
        clock.set(2026, 3, day, 12)
        answer_today(alice, content, right=day != 10)
    alice.send("/study check S1")

    reply = lead.send("/study cohort")
    text = reply.plain_text()
    assert reply.visibility is Visibility.EPHEMERAL
    assert "Members: 5 active" in text and "Quiet 7+ days: 3" in text
    names = [line[2:].split(" — ")[0] for line in member_lines(text)]
    assert names[:3] == ["Lee", "Quinn", "Bob"]  # quiet longest first, then by name
    assert set(names[3:]) == {"Alice", "Carol"}
    quinn_line = line_of(text, "Quinn")
    assert quinn_line.startswith("• Quinn — quiet 9 days · ")
    assert " · last 02 Mar · 0/7 days · streak 0 · " in quinn_line
    assert "quiet 8 days" in line_of(text, "Bob") and "last 03 Mar" in line_of(text, "Bob")
    assert "never answered" in line_of(text, "Carol") and "quiet" not in line_of(text, "Carol")
    ali = line_of(text, "Alice")
    assert "last 11 Mar · 3/7 days · streak 3 · " in ali and "checklist 1/48" in ali
    for line in member_lines(text):
        assert re.search(rf" (— |· ){PACE} · ", line), line

    # the same pace and estimate as the member's own progress report
    mine = alice.send("/study progress").plain_text()
    pace = re.search(r"Your pace: (.+?) \(the calendar", mine)
    est = re.search(r"Estimated exam score: (\d+%) \(80% interval (\d+%)–(\d+%);", mine)
    assert pace and est
    assert f" — {pace.group(1)} · last" in ali
    assert f"ready {est.group(1)} ({est.group(2)}–{est.group(3)})" in ali

    domains = re.findall(r"^• [^—\n]+: (?:(\d+)% of (\d+)|no answers yet) · ", text, re.M)
    assert len(domains) == len(content.track("associate").domains)
    assert sum(int(n or 0) for _, n in domains) == 7  # every answer of the last 90 days
    weakest = re.search(r"Weakest domain: .+ Practise it with /study quiz ([a-z-]+)\.", text)
    assert weakest and content.track("associate").domain(weakest.group(1)) is not None

    (image,) = [b for b in reply.blocks if isinstance(b, Image)]
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n") and len(image.png) < 200_000
    assert "for 3 members against the 70% practice line" in image.alt
    assert "2 without answers in the last 90 days are not drawn" in image.alt
    with PILImage.open(io.BytesIO(image.png)) as im:
        assert im.format == "PNG" and im.size[0] >= 600
    assert "Page 1 of 1 · only you can see this report." in text
    assert not reply.buttons()


def _domain_questions(content: Content, domain: str, n: int) -> list[Question]:
    qs = [q for q in content.by_track["associate"] if q.domain == domain and not q.multi]
    return qs[:n]


def test_accuracy_by_domain_beside_the_weights_and_the_weakest(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    gid, _ = seeding.group_id(bot.store)
    (uid,) = seeding.add_members(bot.store, gid, ["Dana"], T0 - timedelta(days=1))
    wrong = seeding.distractor
    picks: list[tuple[Question, str]] = []
    for domain, right, n in (
        ("data-exploration", 3, 3),
        ("feature-engineering", 2, 3),
        ("model-training", 2, 2),
        ("model-deployment", 0, 2),
        ("automl-platform", 1, 2),
    ):
        for i, q in enumerate(_domain_questions(content, domain, n)):
            picks.append((q, q.answer[0] if i < right else wrong(q)))
    seeding.quiz(bot.store, gid, uid, picks, T0 - timedelta(hours=1))
    text = lead.send("/study cohort").plain_text()
    assert "Accuracy by exam domain (the group's answers · exam weight)" in text
    assert "• Data Exploration: 100% of 3 · 20–25%" in text
    assert "• Feature Engineering: 67% of 3 · 20–25%" in text
    assert "• Model Deployment: 0% of 2 · 15–20%" in text
    assert "• AutoML and Platform: 50% of 2 · 10–15%" in text
    assert (
        "Weakest domain: Model Deployment (0% right). Practise it with "
        "/study quiz model-deployment." in text
    )
    assert "Questions whose answers look wrong" in text and "None flagged." in text
    assert "Flagged questions: 0" in text


def test_the_groups_flagged_questions_are_named(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    target, _, _ = seed_wrong_key(bot, content, strong=12, weak=24)
    text = lead.send("/study cohort").plain_text()
    key, picked = target.answer[0], seeding.distractor(target)
    assert "a flag needs 10 of them" in text and "Flagged questions: 1" in text
    assert (
        f"• {target.id}: likely wrong key (the strongest third chose {picked}, the key is "
        f"{key})" in text
    )


def test_a_member_is_told_it_is_for_the_leads(
    bot: StudyBot, lead: Chat, alice: Chat, content: Content
) -> None:
    refused = alice.send("/study cohort")
    assert refused.refused and refused.visibility is Visibility.EPHEMERAL
    assert refused.plain_text() == (
        "The cohort report is for the group's leads: Lee, and the channel's admins. Ask one "
        "of them how the group is doing; your own report is `/study progress`."
    )
    press = bot.press(Action(alice.who, "cohort", CohortPage(1).encode()))
    assert press.refused and "for the group's leads" in press.plain_text()
    lead.send("/study setup leads=alice")
    assert "Cohort report" in alice.send("/study cohort").plain_text()
    bob = Chat(bot, user="bob", name="Bob")
    bob.send("/study join")
    assert "leads: Lee, Alice, and the channel's admins" in bob.send("/study cohort").plain_text()


def test_a_large_group_is_paged(bot: StudyBot, lead: Chat, content: Content) -> None:
    gid, _ = seeding.group_id(bot.store)
    quiet_names = [f"Quiet {i:02d}" for i in range(20)]
    seeding.add_members(bot.store, gid, quiet_names, T0 - timedelta(days=12), "q")
    active = seeding.add_members(bot.store, gid, [f"Active {i:02d}" for i in range(45)], T0, "a")
    qs = seeding.singles(content, 3)
    for uid in active[:6]:
        seeding.quiz(bot.store, gid, uid, [(q, q.answer[0]) for q in qs], T0)
    first = lead.send("/study cohort")
    text = first.plain_text()
    assert "Members: 66 active" in text and "Quiet 7+ days: 20" in text
    assert "Members 1–10 of 66, quiet for 7+ days first" in text
    assert "Page 1 of 7" in text and [b.label for b in first.buttons()] == ["Next ▶"]
    assert any(isinstance(b, Image) for b in first.blocks)
    seen = [line[2:].split(" — ")[0] for line in member_lines(text)]
    page = first
    for n in range(2, 8):
        page = lead.press("Next ▶", page)
        text = page.plain_text()
        assert page.replace and f"Page {n} of 7" in text
        assert not any(isinstance(b, Image) for b in page.blocks)  # the chart came once
        assert "Accuracy by exam domain" not in text
        seen += [line[2:].split(" — ")[0] for line in member_lines(text)]
        if n == 2:
            assert all("quiet 12 days" in x for x in member_lines(text))
        if n == 3:
            assert not any("quiet" in x for x in member_lines(text))
    assert "Members 61–66 of 66" in text and [b.label for b in page.buttons()] == ["◀ Previous"]
    assert sorted(seen) == sorted(["Lee", *quiet_names] + [f"Active {i:02d}" for i in range(45)])
    back = lead.press("◀ Previous", page)
    assert "Members 51–60 of 66" in back.plain_text()
