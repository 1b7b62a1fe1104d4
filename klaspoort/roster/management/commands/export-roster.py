"""klaspoort export-roster BRIN6 --json"""

from typing import Any

from klaspoort.json_command import SchoolJsonCommand
from klaspoort.roster.selectors import export_roster
from klaspoort.schools.selectors import school_by_brin6


class Command(SchoolJsonCommand):
    help = "Print a school's roster as one JSON object."
    find_school = staticmethod(school_by_brin6)

    def document(self, school: Any, **options: Any) -> Any:
        return export_roster(school)
