"""Signals of the live-class domain for higher domains (analytics writes xAPI statements).
Receivers run inside the sender's transaction."""

from blinker import Namespace

_signals = Namespace()

#: sent as ``attended.send(session, user=…, occurrence=…, at=…, minutes=…)`` when a user
#: joins an occurrence (through the platform or the provider's callback), and for each
#: student a roll call counts as present (``minutes`` > 0; None for a join)
attended = _signals.signal("attended")
