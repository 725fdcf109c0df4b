"""Signals of the assessment domain for higher domains (analytics writes xAPI statements).
Receivers run inside the sender's transaction."""

from blinker import Namespace

_signals = Namespace()

#: sent as ``attempt_submitted.send(attempt)`` once, when an attempt is submitted (by the
#: student or, after its deadline, automatically); ``attempt.submitted_at`` is set
attempt_submitted = _signals.signal("attempt-submitted")

#: sent as ``attempt_graded.send(attempt, at=…)`` whenever an attempt's total becomes final
#: (at once for objective questions, after the last manual grade, or after a regrade)
attempt_graded = _signals.signal("attempt-graded")
