"""Local accounts of the review console: roles, passwords, lockout, sessions, wellness settings.

Plain service functions over a caller-owned session; none of them commits. The web console is
an adapter over them; the review core knows reviewers only by account name. See docs/console.md.
"""

from brightline.accounts.models import Account, AccountRole, AccountSession, OrgSetting
from brightline.accounts.service import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    SignedIn,
    SignInRefused,
    authenticate,
    change_password,
    create_account,
    end_session,
    get_account,
    list_accounts,
    org_wellness,
    parse_role,
    reset_preferences,
    resolve_session,
    set_disabled,
    set_org_wellness,
    set_preferences,
    start_session,
    unlock,
    use_form_key,
    wellness_for,
)
from brightline.accounts.wellness import Wellness

__all__ = [
    "LOCKOUT",
    "MAX_FAILED_ATTEMPTS",
    "Account",
    "AccountRole",
    "AccountSession",
    "OrgSetting",
    "SignInRefused",
    "SignedIn",
    "Wellness",
    "authenticate",
    "change_password",
    "create_account",
    "end_session",
    "get_account",
    "list_accounts",
    "org_wellness",
    "parse_role",
    "reset_preferences",
    "resolve_session",
    "set_disabled",
    "set_org_wellness",
    "set_preferences",
    "start_session",
    "unlock",
    "use_form_key",
    "wellness_for",
]
