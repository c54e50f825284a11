"""The API's services, one module per concern (nothing is re-exported):

- `tokens`: making, revoking and checking API tokens, and logging each call made with one.
- `petitions`: starting and editing petitions with a token, in the name of the owner who made it.
"""
