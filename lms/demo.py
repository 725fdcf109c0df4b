"""``flask --app wsgi lms demo``: idempotent demonstration data.

Guangxi colleges and ASEAN partner institutions, and one account per role, so that the
platform can be tried at once. Running it again changes nothing that exists."""

from __future__ import annotations

import click
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Institution, User
from lms.core.extensions import db

DEMO_PASSWORD = "demo-password-2027"

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
    return logins


@click.command("demo")
def demo() -> None:
    """Load demonstration institutions and accounts (safe to run again)."""
    logins = seed()
    db.session.commit()
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role in logins:
        click.echo(f"  {email:32} {role}")
