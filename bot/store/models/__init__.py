"""The store's tables, all in this package. Every row carries its workspace; idempotency
lives in unique keys."""

from bot.store.models.answers import Answer, DailyQuestion, Flag, QuizAnswer, QuizSession
from bot.store.models.base import NAMING, TS, Base
from bot.store.models.delivery import DeliveryRate, Outbox
from bot.store.models.learning import (
    ExamAnswer,
    ExamAttempt,
    ReviewAnswer,
    ReviewCard,
    ReviewSession,
)
from bot.store.models.own import GroupQuestion
from bot.store.models.people import Away, ChecklistMark, Group, Membership, Pass, User, Workspace

__all__ = [
    "NAMING",
    "TS",
    "Answer",
    "Away",
    "Base",
    "ChecklistMark",
    "DailyQuestion",
    "DeliveryRate",
    "ExamAnswer",
    "ExamAttempt",
    "Flag",
    "Group",
    "GroupQuestion",
    "Membership",
    "Outbox",
    "Pass",
    "QuizAnswer",
    "QuizSession",
    "ReviewAnswer",
    "ReviewCard",
    "ReviewSession",
    "User",
    "Workspace",
]
