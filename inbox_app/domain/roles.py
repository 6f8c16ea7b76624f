"""Staff roles (ARCHITECTURE.md, 'Who may do what')."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RECEPTIONIST = "receptionist"
    NURSE = "nurse"
    CLINICIAN = "clinician"
    ADMIN = "admin"


# Roles that may read and answer patient conversations; admin sees no patient content.
PATIENT_CONTENT_ROLES = frozenset({Role.RECEPTIONIST, Role.NURSE, Role.CLINICIAN})
