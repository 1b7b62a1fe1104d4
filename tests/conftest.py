import pytest

from klaspoort.roster.generator import generate_school
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory


@pytest.fixture
def school(db):
    return SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")


@pytest.fixture
def coordinator(school):
    return CoordinatorFactory(school=school, email="ict@regenboog.example")


@pytest.fixture
def coordinator_client(client, coordinator):
    assert client.login(email=coordinator.email, password=PASSWORD)
    return client


@pytest.fixture
def school_file():
    """A realistic EDEXML file for school 99ZZ00 with the given number of pupils."""

    def make(pupils: int = 60, brin: str = "99ZZ", dependancecode: str = "00", seed: int = 1
             ) -> bytes:
        return generate_school(brin, dependancecode, pupils, seed=seed)

    return make
