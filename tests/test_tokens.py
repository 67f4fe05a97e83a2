"""API tokens end with the person's right to use them (issue 9): archive, deactivation,
deletion, role loss, expiry, revocation by command or page — each one recorded."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cohorte.accounts import services
from cohorte.accounts.models import ApiToken, Member
from cohorte.accounts.tokens import token_issue
from cohorte.core.models import AuditEntry

from .conftest import signed_in

ME = "/api/members"


def works(key: str) -> bool:
    response = Client().get(ME, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def revocations(member: Member) -> list[str]:
    return [
        entry.data["reason"]
        for entry in AuditEntry.objects.filter(
            action="token.revoked", target_type="accounts.member", target_id=str(member.pk)
        )
    ]


def test_an_issued_token_works_and_is_recorded(admin):
    key = token_issue(member=admin, by=admin)
    assert works(key)
    token = ApiToken.objects.get()
    assert key.startswith(token.key_prefix) and len(token.key_prefix) == 8
    assert key not in token.key_hash
    entry = AuditEntry.objects.get(action="token.issued")
    assert entry.actor == admin and entry.target_id == str(admin.pk)
    assert entry.data["prefix"] == token.key_prefix


def test_an_archived_members_token_stops_working(admin, manager_a, program_a):
    key = token_issue(member=manager_a)
    assert works(key)
    services.member_archive(member=manager_a, by=admin)
    assert not works(key)
    assert ApiToken.objects.get().revoked_at is not None
    assert revocations(manager_a) == ["archived"]
    services.member_unarchive(member=manager_a, by=admin)
    assert not works(key)  # a revoked token never comes back


def test_archived_even_without_the_service_is_refused(manager_a, program_a):
    """The check at authentication: a bulk update sends no signal, the token still fails."""
    key = token_issue(member=manager_a)
    Member.objects.filter(pk=manager_a.pk).update(archived_at=timezone.now())
    assert not works(key)
    Member.objects.filter(pk=manager_a.pk).update(archived_at=None, is_active=False)
    assert not works(key)


def test_deactivation_revokes_one_by_one_or_from_a_file(admin, manager_a, manager_b, program_a):
    one, two = token_issue(member=manager_a), token_issue(member=manager_b)
    services.member_set_active(member=manager_a, active=False, by=admin)
    assert not works(one) and works(two)
    services.members_deactivate(
        organisation_id=admin.organisation_id, emails=[(1, manager_b.email)], by=admin
    )
    assert not works(two)
    assert revocations(manager_a) == ["deactivated"] and revocations(manager_b) == ["deactivated"]
    services.member_set_active(member=manager_a, active=True, by=admin)
    assert not works(one)


def test_deleting_a_member_deletes_their_tokens(admin, mentee):
    key = token_issue(member=mentee)
    services.member_delete(member=mentee, by=admin)
    assert not works(key) and not ApiToken.objects.exists()


def test_an_administrator_who_stops_being_one_loses_their_tokens(organisation, admin):
    from .conftest import make_member

    other = make_member(organisation, "ex.admin@x.example", is_org_admin=True)
    key = token_issue(member=other)
    other.first_name = "Toujours"
    other.save()
    assert works(key)
    other.is_org_admin = False
    other.save()
    assert not works(key)
    assert revocations(other) == ["role_lost"]


def test_a_manager_removed_from_their_last_programme_loses_their_tokens(
    manager_a, program_a, organisation
):
    from cohorte.programs.models import Program

    from .conftest import TODAY

    second = Program.objects.create(
        organisation=organisation,
        name="Second",
        kind=program_a.kind,
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=30),
        objective=1,
    )
    second.managers.add(manager_a)
    key = token_issue(member=manager_a)
    program_a.managers.remove(manager_a)
    assert works(key)  # still manages « Second »
    second.managers.clear()
    assert not works(key)
    assert revocations(manager_a) == ["role_lost"]


def test_a_manager_removed_through_the_programme_update(admin, manager_a, program_a):
    from cohorte.programs import services as program_services

    key = token_issue(member=manager_a)
    program_services.program_update(program=program_a, by=admin, managers=[admin])
    assert not works(key)


def test_a_manager_who_is_also_an_administrator_keeps_their_token(admin, program_a):
    program_a.managers.add(admin)
    key = token_issue(member=admin)
    program_a.managers.remove(admin)
    assert works(key)


def test_an_expired_token_stops_working(manager_a, program_a):
    key = token_issue(member=manager_a, days=1)
    assert works(key)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert not works(key)


def test_issue_token_command_with_an_expiry(manager_a, program_a):
    out = StringIO()
    call_command("issue_token", manager_a.email, "--days", "30", stdout=out)
    key = out.getvalue().strip()
    assert works(key)
    token = ApiToken.objects.get()
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    with pytest.raises(CommandError):
        call_command("issue_token", manager_a.email, "--days", "0")
    with pytest.raises(CommandError):
        call_command("issue_token", manager_a.email, "--days", "999999")
    manager_a.archived_at = timezone.now()
    manager_a.save()
    with pytest.raises(CommandError):
        call_command("issue_token", manager_a.email)


def test_revoke_token_command(manager_a, program_a):
    first, second = token_issue(member=manager_a), token_issue(member=manager_a)
    with pytest.raises(CommandError, match="2 live tokens"):
        call_command("revoke_token", manager_a.email)
    out = StringIO()
    call_command("revoke_token", manager_a.email, f"--token-prefix={first[:8]}", stdout=out)
    assert "1 token(s) revoked" in out.getvalue()
    assert not works(first) and works(second)
    with pytest.raises(CommandError):
        call_command("revoke_token", manager_a.email, f"--token-prefix={first[:8]}")
    call_command("revoke_token", manager_a.email.upper(), "--all", stdout=StringIO())
    assert not works(second)
    assert revocations(manager_a) == ["command", "command"]
    with pytest.raises(CommandError):
        call_command("revoke_token", "nobody@x.example", "--all")


def test_token_keys_never_begin_like_an_option_and_old_ones_can_still_be_revoked(manager_a):
    """A key beginning with « - » reads as an option after --token-prefix: none is issued so,
    and one issued before (or by another tool) is revoked with --token-prefix=-…."""
    keys = [token_issue(member=manager_a) for _ in range(200)]
    assert not [key for key in keys if key.startswith("-")]
    ApiToken.objects.filter(member=manager_a).update(revoked_at=timezone.now())
    old = ApiToken.objects.create(member=manager_a, key_hash="x" * 64, key_prefix="-Agf36q0")
    out = StringIO()
    call_command("revoke_token", manager_a.email, "--token-prefix=-Agf36q0", stdout=out)
    assert "1 token(s) revoked" in out.getvalue()
    old.refresh_from_db()
    assert old.revoked_at is not None


def test_the_tokens_page_lists_and_revokes_with_a_confirmation(admin, manager_a, program_a):
    key = token_issue(member=manager_a, days=10)
    token = ApiToken.objects.get()
    client = signed_in(admin)
    assert "/membres/jetons/" in client.get("/membres/").content.decode()
    html = client.get("/membres/jetons/").content.decode()
    assert manager_a.email in html and token.key_prefix in html and "data-confirm" in html
    assert key not in html
    url = f"/membres/jetons/{token.pk}/revoquer/"
    asked = client.get(url)
    assert asked.status_code == 200 and works(key)  # a GET only asks
    assert client.post(url, {}).status_code == 200 and works(key)  # no confirmation, no change
    response = client.post(url, {"confirm": "1"})
    assert response.status_code == 302 and response["Location"] == "/membres/jetons/"
    assert not works(key)
    entry = AuditEntry.objects.get(action="token.revoked")
    assert entry.actor == admin and entry.data["reason"] == "page"


def test_only_an_administrator_of_the_organisation_sees_tokens(
    admin, manager_a, mentee, outsider, program_a
):
    token_issue(member=admin)
    token = ApiToken.objects.get()
    for person in (manager_a, mentee, outsider):
        client = signed_in(person)
        assert client.get("/membres/jetons/").status_code == 404
        assert (
            client.post(f"/membres/jetons/{token.pk}/revoquer/", {"confirm": "1"}).status_code
            == 404
        )
    assert ApiToken.objects.get().revoked_at is None
    foreign = token_issue(member=outsider)
    html = signed_in(admin).get("/membres/jetons/").content.decode()
    assert outsider.email not in html and foreign[:8] not in html


def test_issues_and_revocations_appear_in_the_audit_page(admin, manager_a, program_a):
    key = token_issue(member=manager_a, by=admin)
    services.member_archive(member=manager_a, by=admin)
    client = signed_in(admin)
    assert "/journal/?action=tokens" in client.get("/membres/jetons/").content.decode()
    html = client.get("/journal/", {"action": "tokens"}).content.decode()
    assert "Jeton d&#x27;API émis" in html or "Jeton d'API émis" in html
    assert "révoqué" in html
    assert key not in html
