"""Writes and workflows for accounts, by concern:

- roles.py: granting and revoking site-wide roles
- deletion.py: a reader deleting their own account (the `account_deleting` signal)
"""
