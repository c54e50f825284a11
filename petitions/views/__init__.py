"""The web interface of petitions, by audience:

- public.py: the petition list, a petition's page, its revisions
- signing.py: signing, confirming, withdrawing, resending, and a person's own data
- organise.py: the organisers' pages (dashboard, editing, lifecycle, members, invitations)
"""
