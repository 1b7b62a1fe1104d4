from klaspoort.roster import services
from klaspoort.roster.models import Pupil, RosterImport


def test_a_generated_school_file_imports_and_the_same_file_again_changes_nothing(
        school, school_file):
    data = school_file(60)
    first = services.receive_roster_file(data, source=RosterImport.Source.UPLOAD, school=school)
    assert first.status == RosterImport.Status.WAITING
    first = services.process_import(first.pk)
    assert first.status == RosterImport.Status.PROCESSED
    assert first.counts["pupils"]["added"] == 60
    assert Pupil.objects.filter(school=school, active=True).count() == 60

    again = services.process_import(
        services.receive_roster_file(data, source=RosterImport.Source.UPLOAD, school=school).pk)
    assert again.counts == {part: {"added": 0, "changed": 0, "deactivated": 0}
                            for part in ("groups", "pupils", "teachers")}
