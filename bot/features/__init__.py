"""The study features. Importing this package registers every command and button with
`bot.registry`: each module declares its own, beside the handlers that take them. Help
lists the commands feature by feature, in the order of `FEATURES`."""

from bot import registry
from bot.features import (
    board,
    cohort_report,
    daily,
    flags,
    groups,
    help,
    members,
    mydata,
    own_files,
    own_manage,
    own_questions,
    plan,
    progress,
    quiz,
    remind,
    resources,
    review,
)
from bot.features.exam import command as exam
from bot.features.exam import report as exam_report

FEATURES = [
    help,
    groups,
    members,
    remind,
    daily,
    quiz,
    review,
    exam,
    exam_report,
    plan,
    board,
    progress,
    cohort_report,
    own_manage,
    own_questions,
    own_files,
    flags,
    resources,
    mydata,
]
registry.arrange([m.__name__ for m in FEATURES])
