"""The API's views, by audience:

- osdi.py: the API itself (/api/v1/), for tools: the entry point, a token's petition, signatures, the helper,
  starting and editing petitions
- public.py: what the API shows anyone without a token: articles, and letters with their signatories
- tokens.py: the organiser pages that make and revoke its tokens
- docs.py: its documentation for people, made from its OpenAPI document
"""
