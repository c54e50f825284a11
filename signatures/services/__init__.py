"""Writes and workflows of the signature ledger, by concern:

- signing.py: sign, confirm, withdraw, resend (the signer's side; double opt-in through the e-mail outbox)
- counts.py: the flush that folds state changes into tallies, reconcile and rebuild
- privacy.py: purging unconfirmed signatures, anonymising after a campaign
- review.py: organisers' invalidation of suspicious bursts
"""
