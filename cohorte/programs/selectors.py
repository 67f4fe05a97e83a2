from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from cohorte.accounts.models import Member
from cohorte.core.parse import search_words

from .models import Enrolment, Group, Program


def programs_visible_to(member: Member) -> QuerySet[Program]:
    """Administrators see their organisation's programmes; managers those they manage."""
    if not member.is_authenticated or not member.is_active or member.organisation_id is None:
        return Program.objects.none()
    programs = Program.objects.filter(organisation=member.organisation)
    if not member.is_org_admin:
        programs = programs.filter(managers=member)
    return programs.select_related("organisation", "group")


def program_for(member: Member, program_id: int) -> Program:
    """The programme if this member may manage it, else 404 (never 403: no existence leak)."""
    program = programs_visible_to(member).filter(pk=program_id).first()
    if program is None:
        raise Http404("No such programme.")
    return program


def member_in_program(program: Program, member_id: int) -> Enrolment:
    enrolment = (
        Enrolment.objects.filter(program=program, member_id=member_id)
        .select_related("member")
        .first()
    )
    if enrolment is None:
        raise Http404("No such participant.")
    return enrolment


@dataclass
class SidebarNode:
    group: Group
    children: list["SidebarNode"] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)
    is_open: bool = False

    @property
    def has_content(self) -> bool:
        return bool(self.programs) or any(child.has_content for child in self.children)


@dataclass
class Sidebar:
    roots: list[SidebarNode]
    loose_programs: list[Program]


def sidebar_tree(member: Member, current: Program | None = None) -> Sidebar:
    """Groups nested to any depth with the programmes this member sees: two queries."""
    programs = list(programs_visible_to(member).order_by("name", "pk"))
    groups = list(groups_of(member).order_by("name", "pk"))
    nodes = {group.pk: SidebarNode(group=group) for group in groups}
    roots: list[SidebarNode] = []
    for group in groups:
        parent = nodes.get(group.parent_id) if group.parent_id else None
        (parent.children if parent else roots).append(nodes[group.pk])
    loose: list[Program] = []
    for program in programs:
        node = nodes.get(program.group_id) if program.group_id else None
        (node.programs if node else loose).append(program)
    if current is not None and current.group_id in nodes:
        group_id: int | None = current.group_id
        while group_id is not None:
            node = nodes[group_id]
            node.is_open = True
            group_id = node.group.parent_id
    if not member.is_org_admin:
        roots = _prune(roots)
    return Sidebar(roots=roots, loose_programs=loose)


def _prune(nodes: list[SidebarNode]) -> list[SidebarNode]:
    kept = []
    for node in nodes:
        node.children = _prune(node.children)
        if node.has_content:
            kept.append(node)
    return kept


def groups_of(member: Member) -> QuerySet[Group]:
    if member.organisation is None:
        return Group.objects.none()
    return Group.objects.filter(organisation=member.organisation)


def search_members(queryset: QuerySet, q: str, prefix: str = "") -> QuerySet:
    """Every word of q must match the first name, last name or e-mail."""
    for word in search_words(q):
        queryset = queryset.filter(
            Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}last_name__icontains": word})
            | Q(**{f"{prefix}email__icontains": word})
        )
    return queryset
