"""The web interface of deliverables:

- letters.py: a letter's public page and sign-on form, the confirmation link, and the organisers' letter pages
  (review, proof documents, compiling and its progress)
- delivery.py: the organisers' packets and delivery pages, and the expiring links a delivery e-mails
- downloads.py: serving a private file to someone allowed it, and logging the download
"""
