"""Signals other domains may listen to (credits writes ``earned`` records on completion,
analytics writes xAPI statements). Receivers run inside the sender's transaction."""

from blinker import Namespace

_signals = Namespace()

#: sent with the enrolment when it becomes ``completed`` or ``failed``
enrolment_finished = _signals.signal("enrolment-finished")

#: sent as ``enrolment_admitted.send(enrolment, now=…)`` when a student is given a place
#: (enrolled at once, approved, or promoted from the waiting list)
enrolment_admitted = _signals.signal("enrolment-admitted")

#: sent as ``lesson_completed.send(progress, now=…)`` the first time a lesson is done
lesson_completed = _signals.signal("lesson-completed")

#: sent as ``video_progressed.send(progress, duration=…, now=…, watched_before=…)`` after each
#: video heartbeat (``watched_before``: the seconds watched before this heartbeat)
video_progressed = _signals.signal("video-progressed")
