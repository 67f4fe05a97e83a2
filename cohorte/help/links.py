"""Which help article each page's « ? » opens: the page's URL name → an article slug.

A page not listed here opens the help index. tests/test_help.py checks that every name
below is a real URL name and every slug a real article, in both languages.
"""

VIEW_ARTICLES: dict[str, str] = {
    # the programme's activity table
    "activity:program": "suivre-l-activite",
    "activity:participant-remove": "suivre-l-activite",
    "activity:remind": "relancer-les-participants",
    "activity:reminder-rules": "relancer-les-participants",
    # relationships and meetings
    "meetings:relationships": "gerer-les-relations",
    "meetings:new": "gerer-les-relations",
    "meetings:relationship": "planifier-une-rencontre",
    "meetings:book": "planifier-une-rencontre",
    "meetings:reschedule": "planifier-une-rencontre",
    "meetings:cancel": "planifier-une-rencontre",
    "meetings:calendar": "planifier-une-rencontre",
    "meetings:answer": "repondre-a-une-invitation",
    "meetings:availability": "mes-disponibilites",
    "meetings:relationship-edit": "gerer-les-relations",
    "meetings:relationship-delete": "gerer-les-relations",
    "meetings:evaluate": "evaluer-une-rencontre",
    # conversations
    "conversations:inbox": "ecrire-dans-cohorte",
    "conversations:start-from": "ecrire-dans-cohorte",
    "conversations:preferences": "ecrire-dans-cohorte",
    "conversations:detail": "ecrire-dans-cohorte",
    "conversations:notes": "ecrire-dans-cohorte",
    # surveys
    "surveys:list": "sondages",
    "surveys:detail": "sondages",
    "surveys:answer": "mon-espace",
    # members
    "members:import": "importer-des-membres",
    "members:import-map": "importer-des-membres",
    # messages
    "messaging:compose": "envoyer-un-message",
    "messaging:edit": "envoyer-un-message",
    "messaging:message": "envoyer-un-message",
    "messaging:log": "registre-des-courriels",
    # end of a cycle
    "reports:cycle-end": "terminer-un-cycle",
    "reports:cycle-end-resume": "terminer-un-cycle",
    "reports:relationships-end": "terminer-un-cycle",
    # a member's own pages
    "accounts:my-space": "mon-espace",
    "space:home": "mon-espace",
    "space:program": "mon-espace",
    "space:relationship": "mon-espace",
    "accounts:profile": "mon-espace",
    "meetings:masterclasses": "mon-espace",
}


def article_slug_for(view_name: str | None) -> str | None:
    return VIEW_ARTICLES.get(view_name or "")
