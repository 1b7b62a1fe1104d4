"""Seed the catalogues with the network providers and publishers Dutch primary schools meet most.

Names only: operators correct and extend the lists in the admin.
"""

from django.db import migrations
from django.utils.text import slugify

NETWORK_PROVIDERS = ["Heutink", "QL-ICT", "Reinders", "Skool", "MOO", "Cool", "ZuluConnect",
                     "Prowise Go"]
PUBLISHERS = ["Malmberg", "Noordhoff", "ThiemeMeulenhoff", "Zwijsen", "Blink", "Deviant"]


def seed(apps, schema_editor):
    for model_name, names in (("NetworkProvider", NETWORK_PROVIDERS), ("Publisher", PUBLISHERS)):
        model = apps.get_model("schools", model_name)
        for name in names:
            model.objects.get_or_create(slug=slugify(name), defaults={"name": name})


def unseed(apps, schema_editor):
    # Only entries no school has chosen: consents keep their history (PROTECT).
    for model_name, names in (("NetworkProvider", NETWORK_PROVIDERS), ("Publisher", PUBLISHERS)):
        model = apps.get_model("schools", model_name)
        model.objects.filter(slug__in=[slugify(n) for n in names], consents=None).delete()


class Migration(migrations.Migration):
    dependencies = [("schools", "0002_publishers_network_providers")]

    operations = [migrations.RunPython(seed, unseed)]
