from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    """A deactivated or archived member can neither sign in nor keep a session."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "archived_at", None) is None
