"""Writes and workflows of the signature ledger, by concern:

- signing.py: sign, confirm, withdraw, resend (the signer's side; double opt-in through the e-mail outbox)
- intake.py: the Redis intake that a worker writes in batches, its receipts, failures and the drain's lock
- counts.py: the flush that folds state changes into tallies, reconcile and rebuild
- privacy.py: purging unconfirmed signatures, anonymising after a campaign
- data_requests.py: a person's copy and erasure of what is held under their address (other apps join by signal)
- rules.py: signature rules (networks, domains, disposable domains, addresses, country limits) and their audit
- review.py: held signatures counted, invalidation jobs counted, run, stopped and reversed
"""
