import pytest
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import Membership, User
from lms.core.errors import ValidationError
from tests.conftest import PASSWORD


def _form(**over):
    data = {
        "email": "Nguyen.An@Example.ORG",
        "password": PASSWORD,
        "display_name": "Nguyễn Văn An",
        "name_native": "Nguyễn Văn An",
        "name_latin": "NGUYEN Van An",
        "country": "VN",
        "locale": "vi",
        "timezone": "Asia/Ho_Chi_Minh",
    }
    data.update(over)
    return data


def test_register_page_creates_account_and_signs_in(client, db_session):
    resp = client.post("/register", data=_form())
    assert resp.status_code == 302
    user = db_session.scalar(select(User).filter_by(email="nguyen.an@example.org"))
    assert user.name_latin == "NGUYEN Van An" and user.locale == "vi"
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/profile").status_code == 200


def test_register_reports_every_problem_and_writes_nothing(client, db_session):
    resp = client.post(
        "/register",
        data=_form(email="not-an-address", password="short", country="XX", timezone="Mars/Base"),
        headers={"Accept-Language": "en"},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    for message in (
        "Please enter a valid e-mail address.",
        "The password must have at least 10 characters.",
        "Please choose a country.",
        "Please choose a time zone from the list.",
    ):
        assert message in page
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_email_is_case_folded_and_unique(make, db_session):
    services.register(services.Registration(**_form()))
    with pytest.raises(ValidationError) as err:
        services.register(services.Registration(**_form(email="NGUYEN.AN@example.org")))
    assert err.value.errors[0]["field"] == "email"


def test_idn_email_domain_is_accepted(db_session):
    user = services.register(services.Registration(**_form(email="an@đại-học.vn")))
    assert user.email == "an@đại-học.vn"


def test_email_with_bidi_override_is_refused(db_session):
    with pytest.raises(ValidationError) as err:
        services.register(services.Registration(**_form(email="adm\u202eni@example.org")))
    assert err.value.errors[0]["field"] == "email"


def test_thai_name_with_zwsp_is_kept_and_shown(client, db_session):
    name = "สมชาย\u200bใจดี"
    resp = client.post("/register", data=_form(name_native=name, display_name=name))
    assert resp.status_code == 302
    user = db_session.scalar(select(User).filter_by(email="nguyen.an@example.org"))
    assert user.name_native == name and user.display_name == name
    assert name in client.get("/profile").get_data(as_text=True)


def test_naming_an_institution_asks_to_join_as_pending_student(make, db_session):
    inst = make.institution("hanoi-tech", country="VN")
    user = services.register(services.Registration(**_form(institution_slug=inst.slug)))
    membership = db_session.scalar(select(Membership).filter_by(user_id=user.id))
    assert (membership.role, membership.status) == ("student", "pending")
    assert not user.has_role(inst.id, "student")  # pending grants nothing
