"""Who uses the hub and what they may see: care homes, residents and their records,
hub staff, tablets and their enrolment, login (password, TOTP, sessions, back-off), the
admin operations, and the access rules every service applies.
"""
