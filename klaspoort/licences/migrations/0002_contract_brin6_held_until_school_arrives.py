"""Contracts keep the BRIN6 the publisher sent and may wait for their school (decision 0017)."""

import django.db.models.deletion
from django.db import migrations, models


def copy_brin6(apps, schema_editor):  # type: ignore[no-untyped-def]
    Contract = apps.get_model("licences", "Contract")
    for contract in Contract.objects.select_related("school").only(
            "pk", "school__brin", "school__dependancecode").iterator():
        Contract.objects.filter(pk=contract.pk).update(
            brin6=f"{contract.school.brin}{contract.school.dependancecode}")


class Migration(migrations.Migration):

    dependencies = [
        ("licences", "0001_initial"),
        ("schools", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="brin6",
            field=models.CharField(db_index=True, default="", max_length=6, verbose_name="BRIN6"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_brin6, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="contract",
            name="school",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.CASCADE,
                                    related_name="contracts", to="schools.school"),
        ),
    ]
