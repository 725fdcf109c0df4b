"""``flask --app wsgi lms demo``: idempotent demonstration data.

Guangxi colleges and ASEAN partner institutions, one account per role, and the sample
course packages of ``courses/``, so that the platform can be tried at once. Running it
again changes nothing: only what is missing is created (to update courses from their
packages, use ``lms courses import courses/``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Institution, User
from lms.catalog import packages
from lms.catalog.models import Course
from lms.core.extensions import db
from lms.credits import services as credits
from lms.credits.models import Agreement
from lms.enrolment import services as enrolment
from lms.enrolment.models import SelectionAgreement

DEMO_PASSWORD = "demo-password-2027"
#: the sample course packages shipped beside the code
COURSES = Path(__file__).resolve().parent.parent / "courses"
DEMO_TEACHER = "teacher@demo.lms.test"

INSTITUTIONS = [
    # slug, country, kind, zone, locale, {locale: name}
    (
        "nanning-vtc",
        "CN",
        "vocational_college",
        "Asia/Shanghai",
        "zh_Hans",
        {"zh_Hans": "南宁职业技术学院", "en": "Nanning Vocational and Technical College"},
    ),
    (
        "liuzhou-auto",
        "CN",
        "vocational_college",
        "Asia/Shanghai",
        "zh_Hans",
        {"zh_Hans": "柳州汽车职业技术学院", "en": "Liuzhou Automotive Vocational College"},
    ),
    (
        "guilin-tourism",
        "CN",
        "vocational_college",
        "Asia/Shanghai",
        "zh_Hans",
        {"zh_Hans": "桂林旅游职业学院", "en": "Guilin Tourism Vocational College"},
    ),
    (
        "hanoi-tech",
        "VN",
        "vocational_college",
        "Asia/Ho_Chi_Minh",
        "vi",
        {
            "vi": "Trường Cao đẳng Kỹ thuật Hà Nội",
            "en": "Hanoi Technical College",
            "zh_Hans": "河内技术学院",
        },
    ),
    (
        "bangkok-voc",
        "TH",
        "vocational_college",
        "Asia/Bangkok",
        "th",
        {
            "th": "วิทยาลัยอาชีวศึกษากรุงเทพ",
            "en": "Bangkok Vocational College",
            "zh_Hans": "曼谷职业学院",
        },
    ),
    (
        "jakarta-poly",
        "ID",
        "vocational_college",
        "Asia/Jakarta",
        "id",
        {"id": "Politeknik Jakarta", "en": "Jakarta Polytechnic", "zh_Hans": "雅加达理工学院"},
    ),
    (
        "kl-poly",
        "MY",
        "vocational_college",
        "Asia/Kuala_Lumpur",
        "ms",
        {
            "ms": "Politeknik Kuala Lumpur",
            "en": "Kuala Lumpur Polytechnic",
            "zh_Hans": "吉隆坡理工学院",
        },
    ),
    (
        "manila-tech",
        "PH",
        "vocational_college",
        "Asia/Manila",
        "fil",
        {
            "fil": "Teknikal na Kolehiyo ng Maynila",
            "en": "Manila Technical College",
            "zh_Hans": "马尼拉技术学院",
        },
    ),
    (
        "phnom-penh-ti",
        "KH",
        "vocational_college",
        "Asia/Phnom_Penh",
        "km",
        {
            "km": "វិទ្យាស្ថានបច្ចេកទេសភ្នំពេញ",
            "en": "Phnom Penh Technical Institute",
            "zh_Hans": "金边技术学院",
        },
    ),
    (
        "vientiane-tc",
        "LA",
        "vocational_college",
        "Asia/Vientiane",
        "lo",
        {"lo": "ວິທະຍາໄລເຕັກນິກວຽງຈັນ", "en": "Vientiane Technical College", "zh_Hans": "万象技术学院"},
    ),
    (
        "yangon-tc",
        "MM",
        "vocational_college",
        "Asia/Yangon",
        "my",
        {"my": "ရန်ကုန်နည်းပညာကောလိပ်", "en": "Yangon Technical College", "zh_Hans": "仰光技术学院"},
    ),
]

USERS = [
    # email, display name, native, latin, country, locale, zone, role, institution
    ("admin@demo.lms.test", "Platform Admin", "", "", "CN", "en", "Asia/Shanghai", "admin", None),
    (
        "inst-admin@demo.lms.test",
        "黄丽",
        "黄丽",
        "HUANG Li",
        "CN",
        "zh_Hans",
        "Asia/Shanghai",
        "admin",
        "nanning-vtc",
    ),
    (
        "registrar@demo.lms.test",
        "陈明",
        "陈明",
        "CHEN Ming",
        "CN",
        "zh_Hans",
        "Asia/Shanghai",
        "registrar",
        "nanning-vtc",
    ),
    (
        "registrar.ph@demo.lms.test",
        "Maria Santos",
        "Maria Santos",
        "Maria SANTOS",
        "PH",
        "fil",
        "Asia/Manila",
        "registrar",
        "manila-tech",
    ),
    (
        "teacher@demo.lms.test",
        "李伟",
        "李伟",
        "LI Wei",
        "CN",
        "zh_Hans",
        "Asia/Shanghai",
        "teacher",
        "liuzhou-auto",
    ),
    (
        "student.vn@demo.lms.test",
        "Nguyễn Văn An",
        "Nguyễn Văn An",
        "NGUYEN Van An",
        "VN",
        "vi",
        "Asia/Ho_Chi_Minh",
        "student",
        "hanoi-tech",
    ),
    (
        "student.th@demo.lms.test",
        "สมชาย",
        "สมชาย ใจดี",
        "Somchai JAIDEE",
        "TH",
        "th",
        "Asia/Bangkok",
        "student",
        "bangkok-voc",
    ),
    (
        "student.kh@demo.lms.test",
        "សុខា",
        "ចាន់ សុខា",
        "CHAN Sokha",
        "KH",
        "km",
        "Asia/Phnom_Penh",
        "student",
        "phnom-penh-ti",
    ),
    (
        "student.mm@demo.lms.test",
        "အောင်အောင်",
        "အောင်အောင်",
        "AUNG Aung",
        "MM",
        "my",
        "Asia/Yangon",
        "student",
        "yangon-tc",
    ),
]


def seed() -> list[tuple[str, str]]:
    """Create what is missing; return ``[(email, role description)]`` for every demo login."""
    credits.seed_national_defaults()  # grade scales and credit systems of China and ASEAN
    for slug, country, kind, zone, locale, names in INSTITUTIONS:
        if db.session.scalar(select(Institution.id).filter_by(slug=slug)) is None:
            accounts.create_institution(
                None,
                slug=slug,
                names=names,
                country=country,
                kind=kind,
                timezone=zone,
                default_locale=locale,
            )
    logins = []
    for email, name, native, latin, country, locale, zone, role, slug in USERS:
        if db.session.scalar(select(User.id).filter_by(email=email)) is None:
            inst = accounts.get_institution(slug) if slug else None
            accounts.create_user(
                None,
                email=email,
                password=DEMO_PASSWORD,
                display_name=name,
                role=role,
                institution=inst,
                name_native=native,
                name_latin=latin,
                country=country,
                locale=locale,
                timezone=zone,
            )
        logins.append((email, f"{role}{' at ' + slug if slug else ' (platform)'}"))
    db.session.flush()
    missing = [
        pkg
        for pkg in packages.find_packages([COURSES])
        if db.session.scalar(select(Course.id).filter_by(code=pkg.name)) is None
    ]
    if missing:
        for course in packages.import_packages(missing):
            _give_demo_teacher(course)
    _agreements()
    _credit_agreement()
    return logins


#: course mutual selection: host, partner, courses (those that exist are listed)
AGREEMENTS = [
    ("liuzhou-auto", "hanoi-tech", ["LZ-AUTO-101", "MY-NEV-101"]),
    ("nanning-vtc", "hanoi-tech", ["VN-LOG-101", "BH-ELEC-101", "NN-EC-102"]),
    ("guilin-tourism", "bangkok-voc", ["GL-TOUR-101"]),
    ("nanning-vtc", "phnom-penh-ti", ["KH-AGRI-101", "ID-TCM-101"]),
    ("nanning-vtc", "yangon-tc", ["BH-ELEC-101"]),
]


def _agreements() -> None:
    """Let the demo students of partner colleges enrol in Guangxi courses (课程互选)."""
    today = date.today()
    term = f"{today.year}–{today.year + 1}"
    registrar = db.session.scalar(select(User).filter_by(email="admin@demo.lms.test"))
    for host_slug, partner_slug, codes in AGREEMENTS:
        host, partner = accounts.get_institution(host_slug), accounts.get_institution(partner_slug)
        exists = db.session.scalar(
            select(SelectionAgreement.id).filter_by(
                host_id=host.id, partner_id=partner.id, term=term
            )
        )
        courses = list(db.session.scalars(select(Course).where(Course.code.in_(codes))))
        if exists is None and courses:
            enrolment.create_agreement(
                registrar,
                host,
                partner,
                term=term,
                valid_from=today - timedelta(days=30),
                valid_to=today + timedelta(days=365),
                quota=20,
                courses=courses,
            )


def _credit_agreement() -> None:
    """Manila recognises credit earned at Nanning (学分互认), so recognition can be shown."""
    from lms.credits import agreements as credit_agreements

    if db.session.scalar(select(Agreement.id).filter_by(code="NNVTC-MNLTECH")) is None:
        today = date.today()
        credit_agreements.create_agreement(
            None,
            accounts.get_institution("manila-tech"),
            source=accounts.get_institution("nanning-vtc"),
            code="NNVTC-MNLTECH",
            valid_from=today - timedelta(days=365),
            valid_to=today + timedelta(days=4 * 365),
            equivalences=[
                {"source_code": "VN-LOG-101", "target_code": "LOG 101", "target_title": "Freight"},
                {"source_code": "NN-EC-102", "target_code": "", "target_title": "E-commerce"},
            ],
            max_credits="24",
            min_percent="60",
            notes="Guangxi → Manila demonstration agreement",
        )


def _give_demo_teacher(course: Course) -> None:
    """The demo teacher teaches the sample courses of their own college."""
    teacher = db.session.scalar(select(User).filter_by(email=DEMO_TEACHER))
    if teacher is not None and teacher.has_role(course.institution_id, "teacher"):
        course.teachers.append(teacher)


@click.command("demo")
def demo() -> None:
    """Load demonstration institutions and accounts (safe to run again)."""
    logins = seed()
    db.session.commit()
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role in logins:
        click.echo(f"  {email:32} {role}")
