from bot.content.loader import ContentError, Problem, check_content, load_content, stats
from bot.content.models import Content, Question, Track

__all__ = [
    "Content",
    "ContentError",
    "Problem",
    "Question",
    "Track",
    "check_content",
    "load_content",
    "stats",
]
