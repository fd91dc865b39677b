"""Timed mock exams shaped like the real one, run privately (DMs, or the terminal).

- `draw`: which questions an exam gets (the guide's weights, unseen ones first);
- `attempt`: an attempt's state in the store, and the buttons that name it;
- `screens`: the question on screen and the review-before-submit page;
- `grading`: closing an attempt once, and the clock's sweep of timed-out ones;
- `report`: the report of a closed attempt and `/study exams`;
- `command`: `/study exam` and every exam button.

Every bit of state lives in the store, so an exam survives a restart: the deadline is
checked whenever the member acts, and the clock submits the ones whose time ran out.
"""
