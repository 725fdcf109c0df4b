"""Signals other domains may listen to (credits writes ``earned`` records on completion)."""

from blinker import Namespace

_signals = Namespace()

#: sent with the enrolment when it becomes ``completed`` or ``failed``
enrolment_finished = _signals.signal("enrolment-finished")
