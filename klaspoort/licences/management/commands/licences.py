"""klaspoort licences BRIN6 --json"""

from typing import Any

from klaspoort.json_command import SchoolJsonCommand
from klaspoort.licences.selectors import licences_as_json
from klaspoort.schools.selectors import school_by_brin6


class Command(SchoolJsonCommand):
    help = "Print a school's contracts with their linked groups and children as JSON."
    find_school = staticmethod(school_by_brin6)

    def document(self, school: Any, **options: Any) -> Any:
        return licences_as_json(school)
