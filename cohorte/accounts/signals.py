"""Signals let the apps downstream keep their data in step without accounts importing them."""

from django.dispatch import Signal

#: sent with member_ids= when those members' relationship counters may be wrong
#: (a partner was deleted)
member_counters_stale = Signal()

#: sent with member_ids= when members are switched off (by hand, by file, at a cycle's end):
#: the activity app takes them off « who is online » at once
members_deactivated = Signal()

#: sent with organisation_id=, member_ids= when new members should receive their sign-in
#: details (the messaging app writes the e-mails to its outbox)
members_invited = Signal()
