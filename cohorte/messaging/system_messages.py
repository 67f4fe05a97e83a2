"""The platform's automatic messages (« Messages générés par le système »): each has a key,
a category, the keywords it may use, and default texts in French and in English. An
organisation edits its own copy; an inactive one is never sent."""

import dataclasses

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import rendering

#: every keyword, French and English names → the value's key
KEYWORDS: dict[str, str] = {
    "prénom": "first_name", "first_name": "first_name",
    "nom complet": "full_name", "full_name": "full_name",
    "courriel": "email", "email": "email",
    "organisation": "organisation", "organization": "organisation",
    "programme": "program", "program": "program",
    "lien de connexion": "sign_in_link", "sign_in_link": "sign_in_link",
    "courriel administrateur": "admin_email", "admin_email": "admin_email",
    "pourcentage": "percent", "percent": "percent",
    "partenaire": "partner", "partner": "partner",
    "date": "date", "heure": "time", "time": "time",
    "date de fin": "end_date", "end_date": "end_date",
    "rendez-vous confirmés": "confirmed", "confirmed": "confirmed",
    "objectif": "objective", "objective": "objective",
    "jours": "days", "days": "days",
    "campagne": "campaign", "campaign": "campaign",
    "collaborateur": "collaborator", "collaborator": "collaborator",
    "entretiens": "interviews", "interviews": "interviews",
    "lien": "link", "link": "link",
    "étape": "step", "step": "step",
    "commentaire": "comment", "comment": "comment",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Spec:
    category: Promise
    name: Promise
    keywords: tuple[str, ...]  # value keys this message may use
    subject_fr: str
    subject_en: str
    body_fr: str
    body_en: str

    def keyword_names(self) -> list[str]:
        """The French and English spellings, as offered to the editor."""
        return [f"{{{name}}}" for name, key in KEYWORDS.items() if key in self.keywords]


GETTING_STARTED = _("Débuter")
RELATIONSHIPS = _("Relations")
MEETINGS = _("Rencontres")
REMINDERS = _("Relances")
INTERVIEWS = _("Entretiens")
REPORTS = _("Rapports")

SPECS: dict[str, Spec] = {
    "welcome": Spec(
        GETTING_STARTED,
        _("Message de bienvenue"),
        ("first_name", "full_name", "organisation", "sign_in_link", "admin_email"),
        "Bienvenue sur {organisation}",
        "Welcome to {organization}",
        "Bonjour {prénom},\n\nBienvenue sur {organisation}. "
        "Pour vous connecter : {lien de connexion}\n\n"
        "Une question ? Écrivez à {courriel administrateur}.",
        "Hello {first_name},\n\nWelcome to {organization}. To sign in: {sign_in_link}\n\n"
        "A question? Write to {admin_email}.",
    ),
    "import_login": Spec(
        GETTING_STARTED,
        _("Importation des informations de connexion des membres"),
        ("first_name", "full_name", "email", "organisation", "sign_in_link", "admin_email"),
        "Vos informations de connexion - {organisation}",
        "Your sign-in details - {organization}",
        "Bonjour {prénom},\n\nUn compte a été créé pour vous sur {organisation}. "
        "Choisissez votre mot de passe pour vous connecter :\n{lien de connexion}\n\n"
        "Votre identifiant est votre courriel : {courriel}",
        "Hello {first_name},\n\nAn account has been created for you on {organization}. Choose your "
        "password to sign in:\n{sign_in_link}\n\nYour username is your e-mail: {email}",
    ),
    "profile_reminder": Spec(
        GETTING_STARTED,
        _("Rappel de finalisation du profil"),
        ("first_name", "percent", "sign_in_link", "organisation"),
        "Votre profil",
        "Your profile",
        "Bonjour {prénom},\n\nVotre profil est complété à {pourcentage} %. Complétez-le pour être "
        "mieux accompagné·e : {lien de connexion}",
        "Hello {first_name},\n\nYour profile is {percent} % complete. Complete it to get the best "
        "out of the programme: {sign_in_link}",
    ),
    "match_confirmed": Spec(
        RELATIONSHIPS,
        _("Jumelage confirmé"),
        ("first_name", "partner", "program", "sign_in_link"),
        "Votre relation avec {partenaire} est confirmée",
        "Your relationship with {partner} is confirmed",
        "Bonjour {prénom},\n\nVotre relation avec {partenaire} "
        "dans « {programme} » est confirmée.\n{lien de connexion}",
        "Hello {first_name},\n\nYour relationship with {partner} in “{program}” is confirmed.\n"
        "{sign_in_link}",
    ),
    "relationship_ended": Spec(
        RELATIONSHIPS,
        _("Relation terminée"),
        ("first_name", "partner", "program"),
        "Relation de mentorat terminée",
        "Mentoring relationship ended",
        "Bonjour {prénom},\n\nVotre relation avec {partenaire} dans « {programme} » est terminée. "
        "Merci pour votre engagement.",
        "Hello {first_name},\n\nYour relationship with {partner} in “{program}” has ended. "
        "Thank you for taking part.",
    ),
    "meeting_invitation": Spec(
        MEETINGS,
        _("Invitation à une rencontre"),
        ("first_name", "partner", "date", "time", "program", "sign_in_link"),
        "Invitation à une rencontre le {date}",
        "Meeting invitation on {date}",
        "Bonjour {prénom},\n\nVous êtes invité·e à une rencontre avec {partenaire} "
        "le {date} à {heure}.",
        "Hello {first_name},\n\nYou are invited to a meeting with {partner} on {date} at {time}.",
    ),
    "meeting_reminder": Spec(
        MEETINGS,
        _("Rappel : invitation à une rencontre"),
        ("first_name", "partner", "date", "time", "program"),
        "Rappel : rencontre le {date}",
        "Reminder: meeting on {date}",
        "Bonjour {prénom},\n\nRappel : rencontre avec {partenaire} le {date} à {heure}.",
        "Hello {first_name},\n\nReminder: meeting with {partner} on {date} at {time}.",
    ),
    "meeting_cancelled": Spec(
        MEETINGS,
        _("Rencontre annulée"),
        ("first_name", "partner", "date", "time", "program"),
        "Rencontre annulée : {date}",
        "Meeting cancelled: {date}",
        "Bonjour {prénom},\n\nLa rencontre avec {partenaire} du {date} à {heure} est annulée.",
        "Hello {first_name},\n\nThe meeting with {partner} on {date} at {time} is cancelled.",
    ),
    "meeting_postponed": Spec(
        MEETINGS,
        _("Rencontre reportée"),
        ("first_name", "partner", "date", "time", "program"),
        "Rencontre reportée au {date}",
        "Meeting moved to {date}",
        "Bonjour {prénom},\n\nLa rencontre avec {partenaire} est reportée au {date} à {heure}.",
        "Hello {first_name},\n\nThe meeting with {partner} is moved to {date} at {time}.",
    ),
    "meeting_feedback": Spec(
        MEETINGS,
        _("Comment s'est passée votre rencontre ?"),
        ("first_name", "partner", "date", "program", "sign_in_link"),
        "Comment s'est passée votre rencontre ?",
        "How was your meeting?",
        "Bonjour {prénom},\n\nComment s'est passée votre rencontre du {date} avec {partenaire} ? "
        "Dites-le-nous : {lien de connexion}",
        "Hello {first_name},\n\nHow was your meeting on {date} with {partner}? "
        "Tell us: {sign_in_link}",
    ),
    "reminder_participant": Spec(
        REMINDERS,
        _("Relance d'un participant"),
        (
            "first_name",
            "program",
            "end_date",
            "confirmed",
            "objective",
            "sign_in_link",
            "organisation",
        ),
        "{programme} : nous vous attendons",
        "{program}: we are waiting for you",
        "Bonjour {prénom},\n\nVotre programme « {programme} » est en cours jusqu'au {date de fin}. "
        "Vous avez {rendez-vous confirmés} rendez-vous confirmé(s) sur {objectif}. Connectez-vous "
        "pour poursuivre votre parcours : {lien de connexion}\n\nÀ bientôt,\n{organisation}",
        "Hello {first_name},\n\nYour programme “{program}” runs until {end_date}. You have "
        "{confirmed} confirmed meeting(s) out of {objective}. Sign in to carry on: {sign_in_link}"
        "\n\nSee you soon,\n{organization}",
    ),
    "reminder_participant_ended": Spec(
        REMINDERS,
        _("Relance d'un participant (programme terminé)"),
        (
            "first_name",
            "program",
            "end_date",
            "confirmed",
            "objective",
            "sign_in_link",
            "organisation",
        ),
        "{programme} : merci de votre participation",
        "{program}: thank you for taking part",
        "Bonjour {prénom},\n\nVotre programme « {programme} » s'est terminé le {date de fin}. "
        "Vous y avez eu {rendez-vous confirmés} rendez-vous confirmé(s) sur {objectif}. "
        "Votre espace reste ouvert : {lien de connexion}\n\nMerci,\n{organisation}",
        "Hello {first_name},\n\nYour programme “{program}” ended on {end_date}. You had "
        "{confirmed} confirmed meeting(s) out of {objective}. Your space stays open: "
        "{sign_in_link}\n\nThank you,\n{organization}",
    ),
    "reminder_invitation": Spec(
        REMINDERS,
        _("Relance : invitation sans réponse"),
        ("first_name", "partner", "date", "days", "sign_in_link"),
        "Une invitation attend votre réponse",
        "An invitation is waiting for your answer",
        "Bonjour {prénom},\n\nL'invitation de {partenaire} pour le {date} attend votre réponse "
        "depuis {jours} jours : {lien de connexion}",
        "Hello {first_name},\n\n{partner}'s invitation for {date} has been waiting for your answer "
        "for {days} days: {sign_in_link}",
    ),
    "interview_planned": Spec(
        INTERVIEWS,
        _("Entretien planifié"),
        ("first_name", "partner", "date", "time", "campaign", "link"),
        "Votre entretien le {date}",
        "Your interview on {date}",
        "Bonjour {prénom},\n\n{partenaire} a fixé votre entretien « {campagne} » le {date} à "
        "{heure}. Vous pouvez le préparer ici : {lien}",
        "Hello {first_name},\n\n{partner} has set your “{campaign}” interview on {date} at "
        "{time}. You can prepare it here: {link}",
    ),
    "interview_moved": Spec(
        INTERVIEWS,
        _("Entretien déplacé"),
        ("first_name", "partner", "date", "time", "campaign", "link"),
        "Votre entretien est déplacé au {date}",
        "Your interview is moved to {date}",
        "Bonjour {prénom},\n\n{partenaire} a déplacé votre entretien « {campagne} » au {date} à "
        "{heure}.\n{lien}",
        "Hello {first_name},\n\n{partner} has moved your “{campaign}” interview to {date} at "
        "{time}.\n{link}",
    ),
    "interview_step": Spec(
        INTERVIEWS,
        _("Entretien : à vous de signer"),
        ("first_name", "collaborator", "campaign", "step", "end_date", "link"),
        "Entretien de {collaborateur} : à vous de signer",
        "{collaborator}'s interview: your signature is needed",
        "Bonjour {prénom},\n\nLe compte-rendu de l'entretien de {collaborateur} (« {campagne} ») "
        "attend votre signature ({étape}) avant le {date de fin} : {lien}",
        "Hello {first_name},\n\nThe write-up of {collaborator}'s interview (“{campaign}”) is "
        "waiting for your signature ({step}) by {end_date}: {link}",
    ),
    "interview_sent_back": Spec(
        INTERVIEWS,
        _("Entretien : compte-rendu renvoyé"),
        ("first_name", "collaborator", "campaign", "comment", "link"),
        "Entretien de {collaborateur} : compte-rendu renvoyé",
        "{collaborator}'s interview: write-up sent back",
        "Bonjour {prénom},\n\nLe compte-rendu de l'entretien de {collaborateur} (« {campagne} ») "
        "vous est renvoyé :\n\n{commentaire}\n\n{lien}",
        "Hello {first_name},\n\nThe write-up of {collaborator}'s interview (“{campaign}”) is "
        "sent back to you:\n\n{comment}\n\n{link}",
    ),
    "interview_closed": Spec(
        INTERVIEWS,
        _("Entretien clos"),
        ("first_name", "campaign", "link"),
        "Votre entretien « {campagne} » est clos",
        "Your “{campaign}” interview is closed",
        "Bonjour {prénom},\n\nVotre entretien « {campagne} » a été signé par tous. Vous trouverez "
        "le compte-rendu signé en pièce jointe et ici : {lien}",
        "Hello {first_name},\n\nYour “{campaign}” interview has been signed by everyone. The "
        "signed write-up is attached, and here: {link}",
    ),
    "interview_manager_reminder": Spec(
        INTERVIEWS,
        _("Relance des managers"),
        ("first_name", "campaign", "interviews", "link"),
        "Campagne « {campagne} » : des entretiens vous attendent",
        "“{campaign}” campaign: interviews are waiting for you",
        "Bonjour {prénom},\n\nDans la campagne « {campagne} », ces entretiens vous attendent :"
        "\n\n{entretiens}\n\n{lien}",
        "Hello {first_name},\n\nIn the “{campaign}” campaign, these interviews are waiting for "
        "you:\n\n{interviews}\n\n{link}",
    ),
    "interview_step_reminder": Spec(
        INTERVIEWS,
        _("Rappel : signature d'entretien attendue"),
        ("first_name", "collaborator", "campaign", "step", "end_date", "link"),
        "Rappel : l'entretien de {collaborateur} attend votre signature",
        "Reminder: {collaborator}'s interview is waiting for your signature",
        "Bonjour {prénom},\n\nLe compte-rendu de l'entretien de {collaborateur} (« {campagne} ») "
        "attend votre signature ({étape}) ; l'échéance est le {date de fin}.\n{lien}",
        "Hello {first_name},\n\nThe write-up of {collaborator}'s interview (“{campaign}”) is "
        "waiting for your signature ({step}); it is due on {end_date}.\n{link}",
    ),
    "interview_escalation": Spec(
        INTERVIEWS,
        _("Entretien en retard : escalade"),
        ("first_name", "collaborator", "campaign", "step", "end_date", "link"),
        "En retard : l'entretien de {collaborateur}",
        "Late: {collaborator}'s interview",
        "Bonjour {prénom},\n\nL'étape « {étape} » de l'entretien de {collaborateur} "
        "(« {campagne} ») devait être signée le {date de fin} et ne l'est pas encore.\n{lien}",
        "Hello {first_name},\n\nThe “{step}” step of {collaborator}'s interview (“{campaign}”) "
        "was due on {end_date} and is not signed yet.\n{link}",
    ),
    "campaign_export_ready": Spec(
        INTERVIEWS,
        _("Export d'entretiens prêt"),
        ("first_name", "campaign", "link", "days"),
        "Export prêt : {campagne}",
        "Export ready: {campaign}",
        "Bonjour {prénom},\n\nL'export des entretiens de « {campagne} » est prêt. Téléchargez-le "
        "dans les {jours} jours : {lien}",
        "Hello {first_name},\n\nThe export of the “{campaign}” interviews is ready. Download it "
        "within {days} days: {link}",
    ),
    "report_ready": Spec(
        REPORTS,
        _("Rapport prêt"),
        ("first_name", "link", "days"),
        "Votre rapport est prêt",
        "Your report is ready",
        "Bonjour {prénom},\n\nLe rapport que vous avez demandé est prêt. Téléchargez-le dans "
        "les {jours} jours : {lien}",
        "Hello {first_name},\n\nThe report you asked for is ready. Download it within {days} "
        "days: {link}",
    ),
}


def unknown_keywords(spec: Spec, *texts: str) -> list[str]:
    """Keywords this template cannot fill: unknown ones, or ones of another template."""
    own = {name: key for name, key in KEYWORDS.items() if key in spec.keywords}
    return rendering.unknown_tags(*texts, known=own)


def fill(text: str, values: dict[str, object]) -> str:
    return rendering.fill(text, values, escape=False, known=KEYWORDS)
