"""Signals let the apps downstream (activity, meetings…) keep their own data in step
without programs importing them."""

from django.dispatch import Signal

#: sent with program= after its start or end date changed
program_dates_changed = Signal()
#: sent with program=, member_ids= after members joined (or re-joined) a programme
members_enrolled = Signal()
