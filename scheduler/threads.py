"""Channel posts, and replies in the thread of a day's question (where a reveal goes, and
where it falls back); a keyed post whose outcome is unknown is looked for before posting.

A reveal answers the group's previous question in the thread of that question's post,
found as the answer-count updates find it: the outbox row of its daily post, sent, with
the platform's message id. The platform may refuse the thread (no permission to open or
post in threads, a channel without them, the root deleted); nothing was posted then, so
the same post goes to the channel, keyed as before, and delivery stays exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.features.posts import previous_daily
from bot.seam import ChannelTarget, KeyedMessenger, MessageRef, Messenger, Reply, ThreadRefused
from bot.store.models import Outbox

log = logging.getLogger(__name__)


def reveal_thread(s: Session, row: Outbox, workspace: str) -> MessageRef | None:
    """The post of the question a reveal row answers, if it was posted in the row's
    channel; None: the reveal goes to the channel."""
    if row.kind != "reveal" or row.group_id is None:
        return None
    before = previous_daily(s, row.group_id, row.local_date)
    if before is None:
        return None
    root = s.execute(
        select(Outbox.target_id, Outbox.message_id).where(
            Outbox.idem_key == f"daily:{row.group_id}:{before.local_date.isoformat()}",
            Outbox.status == "sent",
        )
    ).first()
    if root is None or root.message_id is None or root.target_id != row.target_id:
        return None
    return MessageRef(workspace, root.target_id, root.message_id)


def send_post(
    messenger: Messenger,
    target: ChannelTarget,
    reply: Reply,
    key: str,
    ambiguous: bool,
    space: Callable[[], None],
) -> MessageRef:
    """Post to a channel or a thread of it, with the row's key where the platform keeps
    one: a post whose outcome is unknown (`ambiguous`: a worker died mid-post) is looked
    for first; a reply the platform refuses in its thread is posted in the channel.
    `space` waits for the channel's next slot."""
    keyed = messenger if isinstance(messenger, KeyedMessenger) else None
    if ambiguous:
        found = keyed.find_posted(target, key) if keyed else None
        if found is not None:
            log.info("%s was already posted before a worker died; not posting again", key)
            return found
        if keyed is None:
            log.warning(
                "%s may have been posted already (a worker died mid-delivery); "
                "this platform cannot tell, so it is posted again",
                key,
            )
    space()

    def to(t: ChannelTarget) -> MessageRef:
        return keyed.post_keyed(t, reply, key) if keyed else messenger.post(t, reply)

    if target.thread is None:
        return to(target)
    try:
        return to(target)
    except ThreadRefused as e:
        log.info("%s: not in %s's thread (%s); posting in the channel", key, target.thread, e)
        return to(ChannelTarget(target.workspace_id, target.channel_id))
