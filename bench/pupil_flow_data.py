"""The data of the pupil-flow benchmark: run inside Klaspoort (`klaspoort shell < this file`
with BENCH_OUT set), against the benchmark's own database.

One school of 1,000 pupils (the generated EDEXML, imported through the real services) with 40
contracts of 4 consented publishers, linked automatically by year group; every group signs in
with a pincode; the school's network is 127.0.0.0/8, so the load generator on this machine is
"at school". One publisher's software is a registered confidential client whose redirect URI is
never followed (the load generator plays the publisher's side itself). Writes the pupils'
sign-in details and the client to BENCH_OUT as JSON for the load generator.
"""

import datetime
import json
import os
import random

from django.utils import timezone

from klaspoort.licences import services as licences
from klaspoort.licences.access import access_for_user
from klaspoort.licences.models import Contract, Product
from klaspoort.roster import secret_services, secrets
from klaspoort.roster import services as roster
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Group, Pupil, RosterImport
from klaspoort.schools.models import Publisher, PublisherConsent, School, SchoolNetwork
from klaspoort.sso.services import register_client

PUPILS = int(os.environ.get("BENCH_PUPILS", "1000"))
PUBLISHER_LOGIN = "http://127.0.0.1:9/login"  # never contacted: the generator reads the redirect
REDIRECT_URI = "http://127.0.0.1:9/callback"

today = timezone.localdate()
school = School.objects.create(brin="88BB", dependancecode="00", name="Bench Basisschool")
record = roster.receive_roster_file(generate_school("88BB", "00", PUPILS, seed=7),
                                    source=RosterImport.Source.UPLOAD, school=school)
roster.process_import(record.pk)
SchoolNetwork.objects.create(school=school, network="127.0.0.0/8", label="bench")
Group.objects.filter(school=school).update(signin_method=secrets.PINCODE)
for group in Group.objects.filter(school=school, kind=Group.Kind.GROUP):
    secret_services.regenerate_group(actor=None, group=group)

rng = random.Random(7)
publishers = [Publisher.objects.get_or_create(slug=f"bench-{n}", defaults={
    "name": f"Bench uitgeverij {n}"})[0] for n in range(4)]
for publisher in publishers:
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
for n in range(40):
    product = Product.objects.create(
        publisher=publishers[n % 4], code=f"F{n}", name=f"Methode {n}",
        year_groups=[1 + n % 8, 1 + (n + 3) % 8], launch_url=PUBLISHER_LOGIN)
    Contract.objects.create(
        publisher=product.publisher, school=school, number=f"FN{n:03d}", title=product.name,
        product=product, start=today - datetime.timedelta(days=60),
        end=today + datetime.timedelta(days=300))
licences.auto_link(school, today=today)
client = register_client(publishers[0], "Bench app", [REDIRECT_URI], client_id="bench-client",
                         client_secret="bench-secret-" + "x" * 40)

pupils = []
for pupil in Pupil.objects.filter(school=school, active=True).select_related("group", "user"):
    access = access_for_user(pupil.user)
    mine = [p.product.id for p in access.products if p.product.publisher_id == publishers[0].pk]
    if pupil.group is None or not mine:
        continue
    pupils.append({"group": pupil.group_id, "pupil": pupil.pk, "product": mine[0],
                   "code": secrets.decrypt(pupil.signin_secret)})
with open(os.environ["BENCH_OUT"], "w") as out:
    json.dump({"ref": school.pupil_page_ref, "client_id": client.client_id,
               "client_secret": client.client_secret, "redirect_uri": REDIRECT_URI,
               "pupils": pupils}, out)
print(f"bench data: {len(pupils)} pupils who can open a method of the client's publisher")
