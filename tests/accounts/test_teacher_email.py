import pytest
from django.core import mail
from django.urls import reverse

from klaspoort.accounts import services
from klaspoort.accounts.models import User
from klaspoort.audit.models import AuditEntry
from klaspoort.roster import teacher_accounts
from klaspoort.schools.models import SchoolMembership
from tests.factories import SchoolFactory, TeacherFactory, UserFactory

# Mail leaves after commit: what mails runs inside
# django_capture_on_commit_callbacks(execute=True), which runs what a commit would run (and
# nothing a rollback dropped), so these tests read the outbox as production fills it.


def _post(client, school, teacher, email):
    url = reverse("roster:teacher_email", kwargs={"brin6": school.brin6, "teacher_id": teacher.pk})
    return client.post(url, {"email": email}, follow=True)


@pytest.mark.django_db
def test_adding_an_email_gives_the_teacher_an_account_and_activation_link(
        coordinator_client, school, django_capture_on_commit_callbacks):
    teacher = TeacherFactory(school=school, email="")
    page = coordinator_client.get(reverse("roster:teachers", kwargs={"brin6": school.brin6}))
    assert f'id="teacher-email-{teacher.pk}"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _post(coordinator_client, school, teacher, " Marieke@Regenboog.example ")
    teacher.refresh_from_db()
    assert teacher.email == "marieke@regenboog.example"
    assert teacher.user.email == "marieke@regenboog.example"
    [message] = mail.outbox
    assert message.to == ["marieke@regenboog.example"]
    assert AuditEntry.objects.filter(school=school, action="accounts.teacher.email",
                                     after={"email": "marieke@regenboog.example"}).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("taken", ["a.bakker@ander.example", "A.Bakker@Ander.EXAMPLE"])
def test_email_must_be_unique_across_schools_and_capitals(coordinator_client, school, taken,
                                                          django_capture_on_commit_callbacks):
    TeacherFactory(school=SchoolFactory(), email="a.bakker@ander.example")
    teacher = TeacherFactory(school=school, email="")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(coordinator_client, school, teacher, taken)
    assert "al door iemand anders gebruikt" in response.content.decode()
    teacher.refresh_from_db()
    assert teacher.email == ""
    assert mail.outbox == []


@pytest.mark.django_db
def test_email_of_another_schools_user_is_refused(coordinator_client, school,
                                                  django_capture_on_commit_callbacks):
    UserFactory(email="directeur@ander.example")
    teacher = TeacherFactory(school=school, email="")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(coordinator_client, school, teacher, "DIRECTEUR@ander.example")
    assert "al door iemand anders gebruikt" in response.content.decode()
    assert mail.outbox == []


@pytest.mark.django_db
def test_teacher_of_another_school_is_404(coordinator_client):
    other = SchoolFactory()
    teacher = TeacherFactory(school=other, email="")
    url = reverse("roster:teacher_email", kwargs={"brin6": other.brin6, "teacher_id": teacher.pk})
    assert coordinator_client.post(url, {"email": "x@y.example"}).status_code == 404
    teacher.refresh_from_db()
    assert teacher.email == ""


@pytest.mark.django_db
def test_ict_teacher_becomes_coordinator_once_activated(school):
    teacher = TeacherFactory(school=school, email="", roles=["LRK", "ICT"])
    plain = TeacherFactory(school=school, email="", roles=["LRK"],
                           user=UserFactory(email="gewoon@regenboog.example"))
    teacher_accounts.set_teacher_email(school=school, teacher=teacher,
                                       email="ict2@regenboog.example", actor=None)
    teacher.refresh_from_db()
    assert teacher_accounts.sync_ict_coordinators(school) == 0  # not activated yet
    services.activate(teacher.user, "Zonnebloem47")
    assert SchoolMembership.objects.filter(user=teacher.user, school=school).exists()
    assert not SchoolMembership.objects.filter(user=plain.user).exists()
    assert User.objects.get(pk=teacher.user.pk).check_password("Zonnebloem47")


@pytest.mark.django_db
def test_processed_import_makes_activated_ict_teachers_coordinators(school, school_file):
    from klaspoort.roster import services as roster
    from klaspoort.roster.models import RosterImport, Teacher

    def import_file():
        record = roster.receive_roster_file(school_file(30), source=RosterImport.Source.UPLOAD,
                                            school=school)
        return roster.process_import(record.pk)

    assert import_file().status == RosterImport.Status.PROCESSED
    ict = next(t for t in Teacher.objects.filter(school=school) if t.is_ict_coordinator)
    assert not SchoolMembership.objects.filter(user=ict.user).exists()  # no password yet
    ict.user.email = "ict@school.example"
    ict.user.set_password("Zonnebloem47")
    ict.user.save()
    assert import_file().status == RosterImport.Status.PROCESSED
    assert SchoolMembership.objects.filter(user=ict.user, school=school).exists()
    others = Teacher.objects.filter(school=school).exclude(pk=ict.pk)
    assert not SchoolMembership.objects.filter(user__in=[t.user for t in others]).exists()
