"""Pull requests from the playground: a variant's values written into the code with
the codemod, committed on a branch of the variant's own and proposed on GitHub
through PyGithub; then the pull request's state kept up to date (webhook, refresh).

One module per concern: `secrets` (the connection's stored secrets, encrypted),
`connections` (the tenant's repository and which token serves it), `client` (PyGithub
and what its failures mean), `changes` (variables -> rewritten files), `texts` (branch
name, title, body, commit message), `states` (a request's state, announced),
`pull_requests` (asking for one, and the work of opening it), `webhooks` and
`refresh` (the pull request's later life).

PyGithub and the codemod (libcst) are imported by the work that uses them: together
they were a quarter of a server's start, and a server never needs them to answer.
The tenant's token is read only here, to talk to GitHub; it is never logged, shown or
put into a message (and masked from GitHub's answers should one echo it)."""
