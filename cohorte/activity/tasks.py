from django.tasks import task

from cohorte.programs.models import Program

from . import services


@task()
def program_stats_rebuild(program_id: int) -> int:
    """Every counter of a programme, after its dates moved."""
    program = Program.objects.select_related("organisation").filter(pk=program_id).first()
    if program is None:
        return 0
    return services.stats_refresh(program=program)
