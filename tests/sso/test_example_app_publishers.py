"""The example publisher application serves several publishers on one port (issue 11,
item 10): as in `make demo`, a second publisher mounted under its own path signs its pupils in
through its own registered client, beside the publisher at the root."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import reverse
from django.utils import timezone

from examples.publisher_app import Config
from examples.publisher_app.app import mount
from klaspoort.licences.models import GroupLicence
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory
from tests.sso.test_example_app import as_browser, sso_pieces


def test_a_pupil_opens_the_tile_of_a_publisher_mounted_beside_another(
        live_server, issuer, example_server):
    services, signin_session = sso_pieces()
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    SchoolNetwork.objects.create(school=school, network="127.0.0.0/8")
    group = GroupFactory(school=school, name="Groep 5a", jaargroep="5")
    pupil = PupilFactory(school=school, group=group, first_name="Zoë", last_name="Jong")
    configs = []
    products = {}
    for path, name in (("", "Malmberg"), ("/noordhoff", "Noordhoff")):
        publisher = PublisherFactory(name=name)
        products[name] = ProductFactory(publisher=publisher, name=f"Rekenen {name}",
                                        code=f"R-{name.upper()}",
                                        launch_url=f"{app_url}{path}/login")
        GroupLicence.objects.create(contract=ContractFactory(product=products[name],
                                                             school=school), group=group)
        PublisherConsent.objects.create(school=school, publisher=publisher,
                                        given_at=timezone.now())
        registered = services.register_client(publisher, name, [f"{app_url}{path}/callback"])
        configs.append(Config(issuer=issuer, client_id=registered.client_id,
                              client_secret=registered.client_secret, path=path,
                              redirect_uri=f"{app_url}{path}/callback", name=f"{name} (demo)"))
    example_server.set_app(mount(configs))
    browser = as_browser(live_server, pupil.user, {
        signin_session.SIGNIN_KIND: signin_session.AT_SCHOOL,
        signin_session.SIGNIN_SCHOOL: school.pk})

    for name, path in (("Noordhoff", "/noordhoff"), ("Malmberg", "")):
        response = browser.get(live_server.url + reverse(
            "sso:launch", kwargs={"product_id": products[name].pk}), timeout=30)
        steps = [(urlsplit(r.url).netloc, urlsplit(r.url).path) for r in response.history]
        assert steps[1:] == [(urlsplit(app_url).netloc, f"{path}/login"),
                             (urlsplit(live_server.url).netloc, "/o/authorize/"),
                             (urlsplit(app_url).netloc, f"{path}/callback")]
        assert response.status_code == 200, response.text
        assert response.url == f"{app_url}{path}/"
        assert f"Welkom bij {name} (demo)" in response.text
        assert f"<code>R-{name.upper()}</code>" in response.text
        assert f'href="{path}/logout"' in response.text
    # Each publisher keeps its own session, as separate sites would.
    assert "Welkom bij Noordhoff (demo)" in browser.get(f"{app_url}/noordhoff/", timeout=30).text
    assert "Welkom bij Malmberg (demo)" in browser.get(f"{app_url}/", timeout=30).text
