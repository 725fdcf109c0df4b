"""Permission rules of the media domain (see ``lms.core.security``).

- ``media.upload``: teachers and administrators of an institution.
- ``media.view``: the owner; staff (teacher, registrar, administrator) of an institution the
  owner belongs to; anyone a higher domain vouches for (``services.register_view_check``,
  e.g. the catalogue for a lesson the user may open).
- ``media.manage`` (retry, subtitles): the owner and administrators of their institutions."""

from __future__ import annotations

from typing import Any

from lms.accounts.models import User
from lms.core.security import Role, public_rule, rule
from lms.media import services
from lms.media.models import MediaAsset

STAFF = (Role.TEACHER, Role.REGISTRAR, Role.ADMIN)


def _owner_institutions(asset: MediaAsset) -> set[int]:
    return {m.institution_id for m in asset.owner.active_memberships()}


@rule("media.upload")
def _upload(user: User, _obj: Any) -> bool:
    return bool(user.institutions_with(Role.TEACHER, Role.ADMIN))


@public_rule("media.view")
def _view(user: User | None, asset: MediaAsset) -> bool:
    if user is not None:
        if user.id == asset.owner_id:
            return True
        if user.institutions_with(*STAFF) & _owner_institutions(asset):
            return True
    return services.vouched(user, asset)


@rule("media.manage")
def _manage(user: User, asset: MediaAsset) -> bool:
    if user.id == asset.owner_id:
        return True
    return bool(user.institutions_with(Role.ADMIN) & _owner_institutions(asset))
