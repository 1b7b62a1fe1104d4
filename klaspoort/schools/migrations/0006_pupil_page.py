import secrets

from django.db import migrations, models

import klaspoort.schools.models


def give_each_school_a_reference(apps, schema_editor):
    School = apps.get_model("schools", "School")
    for school in School.objects.filter(pupil_page_ref__isnull=True).only("pk"):
        school.pupil_page_ref = secrets.token_urlsafe(16)
        school.save(update_fields=["pupil_page_ref"])


class Migration(migrations.Migration):
    """The pupil page reference is unique, so existing schools each get their own value before
    the column becomes required and unique (one default for all rows would collide)."""

    dependencies = [("schools", "0005_school_require_second_factor")]

    operations = [
        migrations.AddField(
            model_name="school", name="home_signin_enabled",
            field=models.BooleanField(default=False,
                                      help_text="Pupils may sign in at home with the School ID.",
                                      verbose_name="home sign-in allowed"),
        ),
        migrations.AddField(
            model_name="school", name="pupil_page_ref",
            field=models.CharField(max_length=32, null=True, editable=False),
        ),
        migrations.RunPython(give_each_school_a_reference, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="school", name="pupil_page_ref",
            field=models.CharField(default=klaspoort.schools.models.new_pupil_page_ref,
                                   editable=False, max_length=32, unique=True),
        ),
    ]
