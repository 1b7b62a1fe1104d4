"""A school that consents to a publisher, a licensed group with pupils: the world results come
from."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from klaspoort.licences.models import GroupLicence, Product
from klaspoort.pseudonyms import PublisherIds
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.models import Publisher, PublisherConsent, School
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory


@dataclass
class World:
    school: School
    publisher: Publisher
    product: Product
    group: Group
    pupil: Pupil

    def row(self, external_id: str = "r-1", *, pupil: Pupil | None = None,
            school: School | None = None, **extra: Any) -> dict[str, Any]:
        ids = PublisherIds(self.publisher.pk)
        pupil = pupil or self.pupil
        return {"id": external_id, "school_id": ids.school((school or pupil.school).pk),
                "user_id": ids.subject(pupil.user_id), "product": self.product.code,
                "test_code": "M5-B3", "test_name": "Blok 3 rekenen", "test_type": "methodetoets",
                "kind": "toets", "score": 17, "max_score": 20,
                "date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
                **extra}


def licensed_world(publisher: Publisher | None = None, *, brin: str = "99ZZ",
                   code: str = "ZB5") -> World:
    school = SchoolFactory(brin=brin, dependancecode="00")
    publisher = publisher or PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    product = (Product.objects.filter(publisher=publisher, code=code).first()
               or ProductFactory(publisher=publisher, code=code))
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group)
    GroupLicence.objects.create(contract=ContractFactory(school=school, product=product),
                                group=group)
    return World(school, publisher, product, group, pupil)

