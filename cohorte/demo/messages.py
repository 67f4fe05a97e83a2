"""The demo's messages: each sent at a moment of its programme's life, its e-mail log rows
dated from that moment (delivered, opened, bounced…), a message scheduled for next week,
an automatic reminder rule and a release note in the administrator's bell."""

import datetime as dt
import random

from cohorte.accounts.models import Member
from cohorte.core.models import AuditEntry
from cohorte.messaging import services as messaging
from cohorte.messaging.models import Email, EmailStatus, Message, ReleaseNote, ReminderRule
from cohorte.programs.models import Organisation, Program

from .slots import working_slot

HOUR = dt.timedelta(hours=1)


def _sent(
    rng: random.Random,
    message: Message,
    *,
    by: Member,
    at: dt.datetime,
    until: dt.datetime,
    outcomes: list[str],
) -> None:
    """Send `message` (its outbox rows), then date it and its rows from `at`: the e-mails
    delivered and opened in the hours after, never later than `until`; the first rows
    take the outcomes given first, so each one shows in the log whatever the draw."""
    messaging.message_send(message=message, by=by)
    Message.objects.filter(pk=message.pk).update(
        created_at=at - 2 * HOUR, updated_at=at, sent_at=at
    )
    AuditEntry.objects.filter(target_type="messaging.message", target_id=str(message.pk)).update(
        created_at=at
    )
    for index, row in enumerate(Email.objects.filter(message=message).order_by("pk")):
        status = outcomes[index] if index < len(outcomes) else rng.choice(outcomes)
        sent = at + dt.timedelta(seconds=rng.randint(5, 300))
        delivered = min(sent + dt.timedelta(seconds=rng.randint(5, 120)), until)
        opened = min(delivered + dt.timedelta(minutes=rng.randint(10, 48 * 60)), until)
        moments: dict[str, dt.datetime] = {EmailStatus.OPENED: opened, EmailStatus.BOUNCED: sent}
        errors: dict[str, str] = {
            EmailStatus.BOUNCED: "550 5.1.1 mailbox unavailable",
            EmailStatus.DEFERRED: "451 4.7.1 try again later",
        }
        reached = status in (EmailStatus.DELIVERED, EmailStatus.OPENED)
        Email.objects.filter(pk=row.pk).update(
            status=status,
            attempts=1,
            created_at=at,
            sent_at=sent,
            status_at=moments.get(status, delivered),
            delivered_at=delivered if reached else None,
            opened_at=opened if status == EmailStatus.OPENED else None,
            last_error=errors.get(status, ""),
        )


def demo_messages(
    rng: random.Random,
    organisation: Organisation,
    *,
    admin: Member,
    mentoring: Program,
    orientation: Program,
    now: dt.datetime,
) -> None:
    tz = organisation.tzinfo
    start, end = (moment.astimezone(dt.UTC) for moment in mentoring.window())
    launch = messaging.message_save(
        organisation_id=organisation.pk,
        program=mentoring,
        by=admin,
        draft=messaging.Draft(
            audience="mentors_mentees",
            subject_fr="Lancement du mentorat, {prénom} !",
            subject_en="Mentoring starts, {first_name}!",
            body_fr="<p>Bonjour {prénom},</p><p>Le programme <strong>{programme}</strong> démarre. "
            "Votre première rencontre est à planifier <em>avant la fin du mois</em>.</p>"
            "<ul><li>Complétez votre profil</li><li>Prenez contact avec votre binôme</li></ul>",
            body_en="<p>Hello {first_name},</p><p><strong>{program}</strong> is starting. "
            "Plan your first meeting <em>before the end of the month</em>.</p>",
        ),
    )
    # on a weekday morning of its first week, inside the programme's dates
    at = working_slot(rng, zones=[tz], after=start, before=start + dt.timedelta(days=7), minutes=5)
    _sent(
        rng,
        launch,
        by=admin,
        at=at or start + 10 * HOUR,
        until=end - HOUR,
        outcomes=[EmailStatus.BOUNCED, *[EmailStatus.OPENED] * 5, *[EmailStatus.DELIVERED] * 3],
    )
    recent = messaging.message_save(
        organisation_id=organisation.pk,
        program=orientation,
        by=admin,
        draft=messaging.Draft(
            audience="mentees",
            subject_fr="Vos rendez-vous avec les professionnels",
            subject_en="Your appointments with professionals",
            body_fr="<p>Bonjour {prénom}, pensez à confirmer vos rendez-vous de la semaine.</p>",
            body_en="<p>Hello {first_name}, remember to confirm this week's appointments.</p>",
        ),
    )
    at = working_slot(
        rng,
        zones=[tz],
        after=now - dt.timedelta(days=8),
        before=now - dt.timedelta(days=3),
        minutes=5,
    )
    _sent(
        rng,
        recent,
        by=admin,
        at=at or now - dt.timedelta(days=5),
        until=now,
        outcomes=[
            EmailStatus.BOUNCED, EmailStatus.DEFERRED, EmailStatus.COMPLAINED,
            *[EmailStatus.OPENED] * 5, *[EmailStatus.DELIVERED] * 3,
        ],
    )  # fmt: skip
    later = messaging.message_save(
        organisation_id=organisation.pk,
        program=orientation,
        by=admin,
        draft=messaging.Draft(
            audience="mentees",
            subject_fr="Atelier CV jeudi",
            subject_en="CV workshop on Thursday",
            body_fr="<p>Bonjour {prénom}, un atelier CV a lieu jeudi à 17 h.</p>",
            body_en="<p>Hello {first_name}, a CV workshop takes place on Thursday at 5 pm.</p>",
        ),
    )
    messaging.message_schedule(message=later, send_at=now + dt.timedelta(days=7), by=admin)
    ReminderRule.objects.create(
        program=orientation, kind="never_signed_in", days=14, created_by=admin
    )
    note = ReleaseNote.objects.create(
        title_fr="Notes de mise à jour : registre des courriels",
        title_en="Release notes: e-mail log",
        body_fr="<h2>Registre des courriels</h2><ul><li>Statut de livraison de chaque courriel "
        "(délivré, ouvert, retourné, différé, rapport de spam).</li><li>Téléchargement du registre "
        "filtré en CSV.</li></ul>",
        body_en="<h2>E-mail log</h2><ul><li>Delivery status of each e-mail (delivered, opened, "
        "bounced, deferred, spam report).</li><li>Download the filtered log as CSV.</li></ul>",
    )
    messaging.release_note_publish(note=note)
