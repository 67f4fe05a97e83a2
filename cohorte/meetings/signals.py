from django.dispatch import Signal

#: sent with program=, member_ids= after meetings of these members were created or changed
meetings_changed = Signal()
