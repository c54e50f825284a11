"""Writes and workflows for deliverables, by concern:

- letters.py: sign-on letters and their versions, opening and closing them, compiling them to numbered PDFs
- signons.py: organisations and shareholders signing a letter: the form's checks, e-mail confirmation, review,
  logos and proof documents
- packets.py: signature packets (CSV from PostgreSQL's COPY, PDF page by page), who may ask for e-mail addresses,
  their expiry, and the download log
- delivery.py: delivering packets and letters to the target (by e-mail or recorded by hand), the delivery log,
  telling signers, and the expiry of delivered copies
- privacy.py: anonymising sign-ons after their letter closes, removing unverified uploads, forgetting download
  addresses, and a person's own copy and erasure of their sign-ons
"""
