from django.utils import timezone


class OrganisationTimezoneMiddleware:
    """Times are shown in the organisation's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.organisation_id:
            timezone.activate(user.organisation.tzinfo)
        else:
            timezone.deactivate()
        return self.get_response(request)
