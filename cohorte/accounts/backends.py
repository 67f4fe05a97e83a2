from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    """A deactivated or archived member can neither sign in nor keep a session."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "archived_at", None) is None

    def get_user(self, user_id):
        """The session's member with their organisation in the same query: every page reads
        it (time zone, sidebar), and a second round trip per request is what it saves."""
        from .models import Member

        user = Member.objects.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
