"""People over HTTP: login and TOTP set-up, the admin pages (homes, residents,
tablets, staff, audit) and the hub staff's resident records.
"""
