"""Who may call the service: API keys and the roles they carry."""

from brightline.access.models import ApiKey, Role
from brightline.access.service import (
    Principal,
    authenticate_api_key,
    create_api_key,
    list_api_keys,
    parse_roles,
    revoke_api_key,
)

__all__ = [
    "ApiKey",
    "Principal",
    "Role",
    "authenticate_api_key",
    "create_api_key",
    "list_api_keys",
    "parse_roles",
    "revoke_api_key",
]
